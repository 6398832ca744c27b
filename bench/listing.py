"""Listings against a fake arXiv keeping arXiv's hours (tests/fakes/arxiv_world.py), over the
simulated week of Monday 2025-06-09 to Friday 2025-06-13 (real cs.CL and cs.CV papers, their
submission times spread over arXiv's real windows, the API index 4 h behind).

Per day and category, for each way the bot reads a day: papers listed ÷ papers announced (missing
and extra apart), requests made, and the simulated seconds from the 20:00 ET announcement to the
first confirmed listing (the bot asks every 5 minutes from 19:55 ET):
- `evening`: the latest day, from the `/list/CAT/new` pages (what prescore and evening channels
  read);
- `catch-up`: every day again on Saturday, from the `/recent` pages and the API's `id_list`;
- `api window`: every day on the Friday of the next week, from the export API's date search over
  the day's ET submission window (the last resort for days older than the recent pages).
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
    async with ArxivWorld(days, start=start) as world:
        settings = ArxivSettings(**world_settings(world))  # type: ignore[arg-type]
        source = ArxivSource(settings, clock=world.clock)
        await _evenings(world, source, rows)
        await _later(world, source, "catch-up", dt.datetime(2025, 6, 14, 12, tzinfo=NY), rows)
        if not quick:
            # A week later none of these days is on the recent pages: the API's date search.
            await _later(world, source, "api window", dt.datetime(2025, 6, 20, 12, tzinfo=NY), rows)
    listed = sum(r[4] * r[5] / 100 for r in rows)
    announced = sum(r[4] for r in rows)
    return {
        "summary": {
            "papers listed / announced, %": rnd(100 * listed / announced, 2),
            "missing": sum(r[6] for r in rows),
            "extra": sum(r[7] for r in rows),
            "requests": sum(r[8] for r in rows),
            "days under 100 %": sum(1 for r in rows if r[5] < 100),
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
            "api window: the export API's date search over the ET submission window",
        ],
    }
