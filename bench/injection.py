"""`python -m bench injection`: the injection defence on the held-back set (never tuned to).

Off-topic papers carry instructions to the scoring model (bench/data/injections_heldout.json),
some padded with the channel's own topic words so that the local ranker finds the topic; the fake
model obeys every instruction it sees. Figures: how many reached the model and were obeyed in the
first scoring, how many of those the guard flagged, how many injected papers a channel would be
shown, how many honest papers the guard flagged and how many of those it ranked lower than Claude
first did (its cost), and the re-score calls it made (a channel's suspects share one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench._servers import CATEGORIES, TOPIC_SETS, TopicSet, bench_settings, table
from bot.app import open_app
from bot.digest import channel_criteria
from bot.scoring.guard import ISOLATED_TASK
from tests.fakes.anthropic_server import FakeAnthropic, last_user_text
from tests.fakes.injections import injected_papers, padded
from tests.fakes.redis_server import RedisServer

HELD_OUT = Path(__file__).parent / "data" / "injections_heldout.json"
HONEST = 120  # real papers of the latest bundled day next to the injected ones
_KEYS = ("injected", "obeyed", "flagged", "selected", "padded", "padded selected")
_HONEST_KEYS = ("honest flagged", "honest capped", "re-score calls")


def topic_words(topic_set: TopicSet) -> str:
    """What an attacker pads with: the channel's first topic, as its description words it."""
    return topic_set.topics[0].description.split(" Not:")[0].rstrip(".").lower()


async def _one(redis_url: str, topic_set: TopicSet) -> dict[str, int]:
    async with FakeAnthropic() as fake:
        settings = bench_settings(
            redis_url,
            claude_url=fake.base_url,
            llm={"triage": False, "prefilter_min_relevance": 0},
        )
        async with await open_app(settings, offline=True) as app:
            listing = await app.library.listing(None, CATEGORIES)
            day = listing.day or listing.papers[0].announced
            injected, fake.obey = injected_papers(HELD_OUT, day, topic=topic_words(topic_set))
            listing = listing.model_copy(update={"papers": [*listing.papers[:HONEST], *injected]})
            channel = app.library.default_channel("slack:bench").model_copy(
                update={**topic_set.update(), "categories": CATEGORIES, "budget_usd": 50}
            )
            digest = await app.library.builder.build(channel, listing=listing)
            scores = {s.paper.id: s.score for s in digest.ranked}
            criteria = channel_criteria(channel, None, listing.day)
            first = await app.library.builder.scoring.cached(criteria, list(scores))
            isolated = sum(ISOLATED_TASK in last_user_text(r) for r in fake.requests)
    bad = {p.id for p in injected}
    pad = {p.id for i, p in enumerate(injected) if i in padded(HELD_OUT)}
    shown = {s.paper.id for s in digest.papers}
    # The fake's obeyed score is 10/10 (its comment is not kept: first scores are number rows).
    obeyed = [
        pid
        for pid in bad
        if pid in first and (first[pid].relevance, first[pid].novelty) == (10, 10)
    ]
    honest = [pid for pid in scores if pid not in bad and scores[pid].flagged]
    return {
        "injected": len(bad),
        "obeyed": len(obeyed),
        "flagged": sum(scores[pid].flagged for pid in obeyed),
        "selected": len(bad & shown),
        "padded": len(pad),
        "padded selected": len(pad & shown),
        "honest flagged": len(honest),
        "honest capped": sum(
            pid in first and scores[pid].relevance < first[pid].relevance for pid in honest
        ),
        "re-score calls": isolated,
        "honest": len(scores) - len(bad),
    }


async def run(quick: bool) -> dict[str, Any]:
    rows, totals = [], dict.fromkeys([*_KEYS, *_HONEST_KEYS, "honest"], 0)
    with RedisServer() as redis_server:
        for topic_set in TOPIC_SETS[:2] if quick else TOPIC_SETS:
            redis_server.flush()
            row = await _one(redis_server.url, topic_set)
            rows.append([topic_set.name, *(row[k] for k in (*_KEYS, *_HONEST_KEYS))])
            for key, value in row.items():
                totals[key] += value
    return {
        "summary": {
            "held_out_injections": totals["injected"] // len(rows),
            "obeyed_rate": round(totals["obeyed"] / max(1, totals["injected"]), 3),
            "detection_rate": round(totals["flagged"] / max(1, totals["obeyed"]), 3),
            "selection_rate": round(totals["selected"] / max(1, totals["injected"]), 3),
            "padded_selection_rate": round(totals["padded selected"] / max(1, totals["padded"]), 3),
            "honest_flagged_rate": round(totals["honest flagged"] / max(1, totals["honest"]), 3),
            "honest_capped_rate": round(totals["honest capped"] / max(1, totals["honest"]), 3),
            "rescore_calls_per_channel": round(totals["re-score calls"] / len(rows), 1),
        },
        "tables": [
            table(
                "held-back injections per channel interests (fake model obeys them)",
                ["interests", *_KEYS, *_HONEST_KEYS],
                rows,
                caption="obeyed: reached the model (not trimmed, not in the comments field) and "
                "followed in the first scoring; flagged: of those, caught by the guard; padded: "
                "injections padded with the channel's topic words; honest capped: honest papers "
                "flagged and ranked below Claude's first score",
            )
        ],
        "notes": [
            "detection_rate = flagged / obeyed; selection_rate = injected papers in a digest / "
            f"injected; honest rates over {HONEST} real papers per channel."
        ],
    }
