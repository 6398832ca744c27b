"""Local ranker speed on one core: `LocalRanker().rank(papers, criteria)` over every bundled paper.

Best of several repetitions (the least disturbed run), for the default channel's criteria and
the five benchmark topic sets. The process is pinned to one CPU while it runs. Also times the
tokenizer alone (`terms()` over titles and abstracts), the part that does not depend on the
criteria and so could be done once per listing instead of once per channel.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

from bench._servers import TOPIC_SETS, bundled_papers, rnd, table
from bot.models import Criteria
from bot.scoring.local import LocalRanker
from bot.scoring.text import terms
from bot.settings import ChannelDefaults


@contextlib.contextmanager
def one_core() -> Iterator[int | None]:
    """Pin this process to one CPU (the one it runs on) for the duration; no-op where unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        yield None
        return
    before = os.sched_getaffinity(0)
    cpu = min(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


def _caches() -> list[Any]:
    """How to empty the ranker's memos (per-paper term counts, per-listing corpora), whatever the
    current core has. `_background` (the fixed IDF base) and the per-word stem cache stay warm, as
    they are in a running bot when a new day's listing arrives."""
    from bot.scoring import local, text
    from bot.scoring.memo import LastUsed

    found = []
    for module in (local, text):
        for name, value in vars(module).items():
            if name in ("_background", "_stem"):
                continue
            if callable(getattr(value, "cache_clear", None)):
                found.append(value.cache_clear)
            elif isinstance(value, LastUsed):
                found.append(value.clear)
    return found


def _best(fn, reps: int, *, cold: bool = False) -> float:
    best = float("inf")
    caches = _caches() if cold else []
    for _ in range(reps):
        for clear in caches:
            clear()
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


async def run(quick: bool) -> dict[str, Any]:
    papers = bundled_papers()
    reps = 2 if quick else 5
    defaults = ChannelDefaults()
    suites = [("default channel", Criteria(topics=defaults.topics, keywords=defaults.keywords))]
    if not quick:
        suites += [(ts.name, ts.criteria()) for ts in TOPIC_SETS]
    ranker = LocalRanker()
    rows = []
    cold_speeds, warm_speeds = [], []
    with one_core() as cpu:
        ranker.rank(papers[:20], suites[0][1])  # the fixed IDF background, imports, regexes
        for i, (name, criteria) in enumerate(suites):
            n = reps if i == 0 else max(2, reps // 2)
            cold = _best(lambda c=criteria: ranker.rank(papers, c), n, cold=True)
            warm = _best(lambda c=criteria: ranker.rank(papers, c), n)
            cold_speeds.append(len(papers) / cold)
            warm_speeds.append(len(papers) / warm)
            rows.append(
                [
                    name,
                    len(papers),
                    n,
                    rnd(cold * 1000, 1),
                    round(len(papers) / cold),
                    rnd(warm * 1000, 1),
                    round(len(papers) / warm),
                ]
            )
        tokenize = _best(
            lambda: [(terms(p.title), terms(p.abstract)) for p in papers], reps, cold=True
        )
        small = papers[:300]
        small_cold = _best(lambda: ranker.rank(small, suites[0][1]), reps, cold=True)
        small_warm = _best(lambda: ranker.rank(small, suites[0][1]), reps)
    rows.append(
        [
            "default channel, one day (300 papers)",
            len(small),
            reps,
            rnd(small_cold * 1000, 1),
            round(len(small) / small_cold),
            rnd(small_warm * 1000, 1),
            round(len(small) / small_warm),
        ]
    )
    rows.append(
        [
            "tokenizer only (terms of title+abstract)",
            len(papers),
            reps,
            rnd(tokenize * 1000, 1),
            round(len(papers) / tokenize),
            "",
            "",
        ]
    )
    share = tokenize / (len(papers) / cold_speeds[0])
    memoized = bool(_caches())
    notes = [
        f"Tokenizing titles and abstracts is {100 * min(share, 1):.0f}% of a cold rank() call; "
        "it does not depend on the criteria."
    ]
    if memoized:
        notes.append(
            "The core memoizes per-paper work (warm column): the 2nd..Nth channel ranking the "
            f"same papers runs {warm_speeds[0] / cold_speeds[0]:.1f}x faster than the first."
        )
    else:
        notes.append(
            "The core does not memoize per-paper work: every channel's digest (and every "
            "`search`) tokenizes the same papers again."
        )
    return {
        "summary": {
            "papers": len(papers),
            "papers_per_second": round(cold_speeds[0]),
            "papers_per_second_warm": round(warm_speeds[0]),
            "papers_per_second_min_over_criteria": round(min(cold_speeds)),
            "ms_per_1000_papers": rnd(1000 / cold_speeds[0] * 1000, 1),
            "ms_per_1000_papers_warm": rnd(1000 / warm_speeds[0] * 1000, 1),
            "tokenizer_share_cold": rnd(min(share, 1.0), 3),
            "per_paper_memo": memoized,
            "pinned_cpu": cpu if cpu is not None else "no",
        },
        "tables": [
            table(
                "LocalRanker.rank on one core (best of repetitions)",
                [
                    "criteria",
                    "papers",
                    "reps",
                    "cold ms",
                    "cold papers/s",
                    "warm ms",
                    "warm papers/s",
                ],
                rows,
                caption="cold: the ranker's per-paper caches cleared before each run (a new "
                "listing); warm: the same papers again (the next channel)",
            )
        ],
        "notes": notes,
    }
