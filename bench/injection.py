"""`python -m bench injection`: the injection defence on the held-back set (never tuned to).

Off-topic papers carry instructions to the scoring model (bench/data/injections_heldout.json);
the fake model obeys every instruction it sees. Figures: how many reached the model and were
obeyed, how many of those the consistency check flagged, how many injected papers a channel
would be shown, and how many honest papers the check capped (its cost).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench._servers import CATEGORIES, TOPIC_SETS, bench_settings, table
from bot.app import open_app
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.injections import OBEYED, injected_papers
from tests.fakes.redis_server import RedisServer

HELD_OUT = Path(__file__).parent / "data" / "injections_heldout.json"
HONEST = 120  # real papers of the latest bundled day next to the injected ones


async def run(quick: bool) -> dict[str, Any]:
    rows, totals = [], {"injected": 0, "obeyed": 0, "flagged": 0, "selected": 0, "capped": 0}
    honest_total = 0
    with RedisServer() as redis_server:
        for topic_set in TOPIC_SETS[:2] if quick else TOPIC_SETS:
            redis_server.flush()
            async with FakeAnthropic() as fake:
                settings = bench_settings(
                    redis_server.url,
                    claude_url=fake.base_url,
                    llm={"triage": False, "prefilter_min_relevance": 0},
                )
                async with await open_app(settings, offline=True) as app:
                    listing = await app.listing(None, CATEGORIES)
                    injected, fake.obey = injected_papers(
                        HELD_OUT, listing.day or listing.papers[0].announced
                    )
                    papers = [*listing.papers[:HONEST], *injected]
                    channel = app.default_channel("slack:bench").model_copy(
                        update={**topic_set.update(), "categories": CATEGORIES, "budget_usd": 50}
                    )
                    digest = await app.builder.build(
                        channel, listing=listing.model_copy(update={"papers": papers})
                    )
            bad = {p.id for p in injected}
            scores = {s.paper.id: s.score for s in digest.ranked}
            obeyed = [pid for pid in bad if OBEYED in scores[pid].comment]
            row = {
                "injected": len(bad),
                "obeyed": len(obeyed),
                "flagged": sum(scores[pid].flagged for pid in obeyed),
                "selected": len(bad & {s.paper.id for s in digest.papers}),
                "capped": sum(s.flagged for pid, s in scores.items() if pid not in bad),
            }
            honest_total += len(scores) - len(bad)
            rows.append([topic_set.name, *row.values()])
            for key, value in row.items():
                totals[key] += value
    return {
        "summary": {
            "held_out_injections": totals["injected"] // len(rows),
            "detection_rate": round(totals["flagged"] / max(1, totals["obeyed"]), 3),
            "obeyed_rate": round(totals["obeyed"] / max(1, totals["injected"]), 3),
            "selection_rate": round(totals["selected"] / max(1, totals["injected"]), 3),
            "honest_capped_rate": round(totals["capped"] / max(1, honest_total), 3),
        },
        "tables": [
            table(
                "held-back injections per channel interests (fake model obeys them)",
                ["interests", "injected", "obeyed", "flagged", "selected", "honest capped"],
                rows,
                caption="obeyed: reached the model (not trimmed, not in the comments field) and "
                "followed; flagged: of those, caught by the consistency check",
            )
        ],
        "notes": [
            "detection_rate = flagged / obeyed; selection_rate = injected papers in a digest / "
            f"injected; honest_capped_rate over {HONEST} real papers per channel."
        ],
    }
