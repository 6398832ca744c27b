"""`python -m bench faults`: a digest under each failure mode of the Messages API.

One channel, the latest bundled day, default settings but a deadline of DEADLINE seconds. Per mode:
the digest's delay over the no-fault run, the calls made (every attempt, as the ledger counts
them), the dollars spent, and the share of papers ranked by the local ranker.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from bench._servers import CATEGORIES, TOPIC_SETS, bench_settings, rnd, table
from bot.app import open_app
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.redis_server import RedisServer

DEADLINE = 10.0


def _refuse_one(fake: FakeAnthropic, title: str) -> None:
    fake.refuse_containing = title


def _long_rate_limit(fake: FakeAnthropic, title: str) -> None:
    fake.retry_after = 3600
    fake.fail_next(*[429] * 50)


def _mix(fake: FakeAnthropic, title: str) -> None:
    _refuse_one(fake, title)
    fake.fail_next(0.0, 529, "text_only", 3.0, "missing", 429)


# How the fake misbehaves in each mode, given the title of a paper to refuse.
MODES: dict[str, Callable[[FakeAnthropic, str], None]] = {
    "no fault": lambda fake, title: None,
    "refusal (one paper)": _refuse_one,
    "text without tool call": lambda fake, title: fake.fail_next(*["text_only"] * 50),
    "hang past the deadline": lambda fake, title: fake.fail_next(*[120.0] * 50),
    "429, retry-after 3600": _long_rate_limit,
    "529 storm": lambda fake, title: fake.fail_next(*[529] * 200),
    "mix across batches": _mix,
}


async def _one(redis_url: str, mode: str) -> dict[str, Any]:
    async with FakeAnthropic() as fake:
        settings = bench_settings(
            redis_url, claude_url=fake.base_url, llm={"deadline_seconds": DEADLINE}
        )
        async with await open_app(settings, offline=True) as app:
            listing = await app.library.listing(None, CATEGORIES)
            channel = app.library.default_channel("slack:bench").model_copy(
                update={**TOPIC_SETS[0].update(), "categories": CATEGORIES, "budget_usd": 50}
            )
            # The paper to refuse: the locally best, which the triage surely keeps.
            ranks = app.library.builder.scoring.local.rank(listing.papers, channel.criteria())
            best = max(ranks, key=lambda s: s.relevance).paper_id
            MODES[mode](fake, next(p.title for p in listing.papers if p.id == best))
            started = time.perf_counter()
            digest = await app.library.builder.build(channel, listing=listing)
            seconds = time.perf_counter() - started
            ledger = await app.store.usage(channel.id, dt.date.today())
    local = sum(s.score.scorer == "local" for s in digest.ranked)
    return {
        "seconds": seconds,
        "calls": ledger.calls,
        "fake_calls": len(fake.requests),
        "usd": ledger.cost_usd,
        "local_share": local / max(1, len(digest.ranked)),
        "status": digest.status or "(nothing failed)",
    }


async def run(quick: bool) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    with RedisServer() as redis_server:
        for mode in MODES:
            redis_server.flush()
            results[mode] = await _one(redis_server.url, mode)
    base = results["no fault"]["seconds"]
    rows = [
        [
            mode,
            rnd(r["seconds"] - base, 2),
            r["calls"],
            rnd(r["usd"], 4),
            f"{r['local_share']:.1%}",
            r["status"],
        ]
        for mode, r in results.items()
    ]
    summary: dict[str, Any] = {"deadline_seconds": DEADLINE}
    for mode, r in results.items():
        key = mode.split(" (")[0].split(",")[0].replace(" ", "_")
        summary[f"{key}_delay_s"] = rnd(r["seconds"] - base, 2)
        summary[f"{key}_local_share"] = rnd(r["local_share"], 3)
    mismatched = [m for m, r in results.items() if r["calls"] != r["fake_calls"]]
    return {
        "summary": summary,
        "tables": [
            table(
                f"one digest per failure mode (deadline {DEADLINE:g} s)",
                ["mode", "delay (s)", "calls", "dollars", "ranked locally", "opening line"],
                rows,
                caption="delay over the no-fault run; calls as the ledger counts them",
            )
        ],
        "notes": [
            "the ledger counted every call the fake received in every mode"
            if not mismatched
            else f"ledger and fake disagree on calls in: {', '.join(mismatched)}"
        ],
    }
