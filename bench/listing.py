"""Listings against a fake arXiv keeping arXiv's hours (tests/fakes/arxiv_world.py), over the
simulated week of Monday 2025-06-09 to Friday 2025-06-13 (real cs.CL and cs.CV papers, their
submission times spread over arXiv's real windows, the API index 4 h behind).

Per day and category, for each way the bot reads a day: papers listed ÷ papers announced (missing
and extra apart), requests made, and the simulated seconds from the 20:00 ET announcement to the
first confirmed listing (the bot asks every 5 minutes from 19:55 ET):
- `evening`: the latest day, from the `/list/CAT/new` pages (what prescore and evening channels
  read);
- `catch-up`: every day again on Saturday, from the `/recent` pages and the API's `id_list`;
- `oai-pmh`: every day on the Friday of the next week (older than the recent pages' five), from
  OAI-PMH (records paged 500 at a time through resumption tokens), every 30th paper held back a
  day by moderation and one in 50 re-stamped later by a metadata change;
- `api window` (full run only): the same days from the export API's date search over the day's
  ET submission window, the last resort when OAI-PMH does not answer (moderation holds move
  papers out of their window: the reason it is the last resort).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bench._servers import rnd, table
from bot.errors import ListingNotReady
from bot.settings import ArxivSettings
from bot.sources.arxiv import ArxivSource
from bot.sources.cycle import Cycle
from tests.fakes.arxiv_world import NY, ArxivWorld, real_days, world_settings

CATS = ["cs.CL", "cs.CV"]
WEEK = [dt.date(2025, 6, d) for d in (9, 10, 11, 12, 13)]
POLL = dt.timedelta(minutes=5)


def _row(
    world: ArxivWorld,
    how: str,
    source: str,
    day: dt.date,
    cat: str,
    ids: set[str],
    requests: int,
    seconds: float | None,
) -> list[Any]:
    announced = world.announced_ids(day, [cat])
    share = 100 * len(ids & announced) / len(announced) if announced else 100.0
    return [
        str(day),
        cat,
        how,
        source,
        len(announced),
        rnd(share, 1),
        len(announced - ids),
        len(ids - announced),
        requests,
        "" if seconds is None else rnd(seconds, 0),
    ]


async def _evenings(world: ArxivWorld, source: ArxivSource, rows: list[list[Any]]) -> None:
    cycle = Cycle()
    for day in WEEK:
        announced = cycle.announced_at(day)
        for cat in CATS:
            world.now = announced - POLL
            before = len(world.requests)
            while True:
                try:
                    listing = await source.listing(day, [cat])
                    break
                except ListingNotReady:
                    world.advance(minutes=5)
            seconds = (world.now - announced).total_seconds()
            ids = {p.id for p in listing.papers}
            rows.append(
                _row(
                    world,
                    "evening",
                    listing.source,
                    day,
                    cat,
                    ids,
                    len(world.requests) - before,
                    seconds,
                )
            )


async def _later(
    world: ArxivWorld, source: ArxivSource, how: str, at: dt.datetime, rows: list[list[Any]]
) -> None:
    world.now = at
    for day in WEEK:
        for cat in CATS:
            if how == "api window":  # OAI-PMH down: the last resort
                world.fail_next("/oai", *[503] * (source.settings.retries + 1))
            before = len(world.requests)
            listing = await source.listing(day, [cat])
            ids = {p.id for p in listing.papers}
            rows.append(
                _row(world, how, listing.source, day, cat, ids, len(world.requests) - before, None)
            )


async def run(quick: bool) -> dict[str, Any]:
    start = dt.datetime(2025, 6, 8, 19, tzinfo=NY)
    rows: list[list[Any]] = []
    # The next week's days (their papers are not part of the figures) push this week's off the
    # recent pages, as arXiv's do.
    days = real_days(*WEEK) | {
        d: [] for d in (dt.date(2025, 6, 16) + dt.timedelta(i) for i in range(5))
    }
    async with ArxivWorld(days, start=start, held=30) as world:
        for i, pid in enumerate(sorted(world.announced_ids(WEEK[0], CATS))[::50]):
            world.restamped[pid] = dt.date(2025, 6, 17 + i % 3)  # a journal-ref, a DOI, later
        settings = ArxivSettings(**world_settings(world, retries=1))  # type: ignore[arg-type]
        source = ArxivSource(settings, clock=world.clock)
        await _evenings(world, source, rows)
        await _later(world, source, "catch-up", dt.datetime(2025, 6, 14, 12, tzinfo=NY), rows)
        # A week later none of these days is on the recent pages: OAI-PMH.
        later = dt.datetime(2025, 6, 20, 12, tzinfo=NY)
        await _later(world, source, "oai-pmh", later, rows)
        if not quick:
            await _later(world, source, "api window", later, rows)
    main = [r for r in rows if r[2] != "api window"]
    listed = sum(r[4] * r[5] / 100 for r in main)
    announced = sum(r[4] for r in main)
    resort = [r for r in rows if r[2] == "api window"]
    return {
        "summary": {
            "papers listed / announced, %": rnd(100 * listed / announced, 2),
            "missing": sum(r[6] for r in main),
            "extra": sum(r[7] for r in main),
            "requests": sum(r[8] for r in main),
            "oai-pmh requests": sum(r[8] for r in main if r[2] == "oai-pmh"),
            "days under 100 %": sum(1 for r in main if r[5] < 100),
            "last resort (api window) missing / extra": (
                f"{sum(r[6] for r in resort)} / {sum(r[7] for r in resort)}" if resort else "-"
            ),
            "worst seconds to a confirmed evening listing": max(
                r[9] for r in rows if r[2] == "evening"
            ),
        },
        "tables": [
            table(
                "papers listed per day and category",
                [
                    "day",
                    "category",
                    "read as",
                    "source",
                    "announced",
                    "listed %",
                    "missing",
                    "extra",
                    "requests",
                    "s to confirmed",
                ],
                rows,
                caption="simulated clock; the bot polls every 5 min from 19:55 ET",
            )
        ],
        "notes": [
            "evening: /list/CAT/new at 20:00 ET; catch-up: /recent + id_list on Saturday; "
            "oai-pmh: ListRecords a week later; api window: the export API's date search over "
            "the ET submission window with OAI-PMH down (not in the summary's totals)",
        ],
    }
