"""The arXiv source against a fake arXiv that keeps arXiv's hours (tests/fakes/arxiv_world.py):
each day from the interface that has it at that hour, confirmed or not returned at all."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import unquote_plus

import pytest

from bot.errors import ArxivUnavailable, ListingNotReady
from bot.settings import ArxivSettings
from bot.sources.arxiv import ArxivSource
from bot.sources.bundled import load_rows
from tests.fakes.arxiv_world import NY, ArxivWorld, real_days, world_settings

CATS = ["cs.CL", "cs.CV"]
MON, TUE, WED = dt.date(2025, 6, 9), dt.date(2025, 6, 10), dt.date(2025, 6, 11)


def et(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=NY)


def source_for(world: ArxivWorld, **extra: Any) -> tuple[ArxivSource, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the fake clock moves; nothing really waits
        waits.append(seconds)
        world.advance(seconds=seconds)

    settings = ArxivSettings.model_validate(world_settings(world, **extra))
    return ArxivSource(settings, clock=world.clock, sleep=sleep), waits


def paths(world: ArxivWorld, start: int = 0) -> list[str]:
    return [p.split("?")[0] for _, p in world.requests[start:]]


async def test_the_new_day_is_read_from_the_listing_pages_at_20_et() -> None:
    async with ArxivWorld(real_days(MON, TUE, WED), start=et(2025, 6, 9, 19, 59)) as world:
        source, _ = source_for(world)
        with pytest.raises(ListingNotReady, match="not confirmed yet: arXiv announces it at Mon"):
            await source.listing(TUE, CATS)
        assert world.requests == []  # known from the calendar: nothing asked
        world.advance(minutes=1)
        listing = await source.listing(TUE, CATS)
        assert {p.id for p in listing.papers} == world.announced_ids(TUE, CATS)
        assert listing.source == "arxiv listing pages" and all(p.abstract for p in listing.papers)
        # Before midnight the feed still holds Monday: it is not asked.
        assert paths(world) == ["/list/cs.CL/new", "/list/cs.CV/new"]
        assert {p.announce_type for p in listing.papers} == {"new", "cross"}
        assert world.user_agents == {next(iter(world.user_agents))}
        assert "ops@example.org" in next(iter(world.user_agents))


async def test_the_pages_lagging_behind_the_clock_is_not_ready_not_empty() -> None:
    days = real_days(MON, TUE)
    async with ArxivWorld(days, start=et(2025, 6, 10, 20, 30)) as world:  # Wed not in the world
        source, _ = source_for(world)
        with pytest.raises(ListingNotReady, match="still show 2025-06-10"):
            await source.listing(WED, CATS)


async def test_after_midnight_the_feed_is_checked_and_a_stale_feed_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    start = et(2025, 6, 10, 0, 30)
    async with ArxivWorld(real_days(MON, TUE), start=start, stale={"cs.CV": MON}) as world:
        source, _ = source_for(world)
        listing = await source.listing(TUE, CATS)
        assert {p.id for p in listing.papers} == world.announced_ids(TUE, CATS)
        assert paths(world)[-1] == "/rss/cs.CL+cs.CV"
        assert "RSS for cs.CL+cs.CV is stale" in caplog.text
        # Pages down, feed stale: not ready (never Monday's papers as Tuesday's).
        world.fail_next("/list", *[503] * 3)
        with pytest.raises(ListingNotReady, match="the RSS feed shows 2025-06-09"):
            await source.listing(TUE, CATS)


async def test_pages_down_after_midnight_fall_back_to_a_fresh_feed_but_not_a_cut_one() -> None:
    async with ArxivWorld(real_days(MON, TUE), start=et(2025, 6, 10, 6)) as world:
        source, _ = source_for(world)
        world.fail_next("/list", *[503] * 3)
        listing = await source.listing(TUE, CATS)
        assert listing.source == "arxiv rss"
        assert {p.id for p in listing.papers} == world.announced_ids(TUE, CATS)
    big = [dict(row, id=f"2506.{90000 + i}") for i, row in enumerate(load_rows(TUE) * 6)]
    async with ArxivWorld({MON: [], TUE: big}, start=et(2025, 6, 10, 6)) as world:
        source, _ = source_for(world)
        world.fail_next("/list", *[503] * 3)
        with pytest.raises(ListingNotReady, match="2000-item cap"):
            await source.listing(TUE, CATS)


async def test_a_past_day_comes_from_the_recent_pages_and_waits_for_a_lagging_index() -> None:
    lag = dt.timedelta(hours=30)
    async with ArxivWorld(
        real_days(MON, TUE, WED), start=et(2025, 6, 10, 20, 30), api_lag=lag
    ) as world:
        source, _ = source_for(world)
        with pytest.raises(ListingNotReady, match="the API does not know"):
            await source.listing(TUE, CATS)  # announced 24.5 h ago, indexed after 30 h
        world.advance(hours=6)
        listing = await source.listing(TUE, CATS)
        assert listing.source == "arxiv recent + api"
        assert {p.id for p in listing.papers} == world.announced_ids(TUE, CATS)
        assert all(p.abstract for p in listing.papers)


async def test_retry_after_is_honoured_up_to_its_cap() -> None:
    async with ArxivWorld(real_days(MON, TUE), start=et(2025, 6, 9, 21)) as world:
        source, waits = source_for(world, retry_after_cap_seconds=5)
        world.burst("/list/cs.CL", 2, retry_after=120)
        listing = await source.listing(TUE, CATS)
        assert waits == [5, 5]
        assert {p.id for p in listing.papers} == world.announced_ids(TUE, CATS)
        world.burst("/list/cs.CL", 3, retry_after=1)
        with pytest.raises(ArxivUnavailable, match="HTTP 429"):
            await source.listing(TUE, CATS)


async def test_across_the_dst_change_the_hours_stay_in_new_york_time() -> None:
    # Clocks went back on Sun 2025-11-02: Monday's listing appears at 01:00 UTC, not 00:00, and
    # Tuesday's submission window opens at Fri 18:00 UTC and closes at Mon 19:00 UTC.
    fri, mon, tue = dt.date(2025, 10, 31), dt.date(2025, 11, 3), dt.date(2025, 11, 4)
    later = [dt.date(2025, 11, d) for d in (5, 6, 7, 10, 11)]
    days = {
        d: [dict(r, announce_type="new") for r in rows]
        for d, rows in real_days(fri, mon, tue).items()
    }
    days |= {d: [] for d in later}
    start = dt.datetime(2025, 11, 3, 0, 59, tzinfo=dt.UTC)
    async with ArxivWorld(days, start=start) as world:
        source, _ = source_for(world)
        with pytest.raises(ListingNotReady):
            await source.listing(mon, CATS)
        world.advance(minutes=1)
        assert {p.id for p in (await source.listing(mon, CATS)).papers} == world.announced_ids(
            mon, CATS
        )
        # Two weeks on, Tuesday is older than the recent pages: OAI-PMH's versions' dates, read
        # in ET, put the weekend's papers on it; with OAI-PMH down, the API window in ET too.
        world.now = dt.datetime(2025, 11, 11, 21, tzinfo=NY)
        listing = await source.listing(tue, CATS)
        assert listing.source == "arxiv oai-pmh"
        assert {p.id for p in listing.papers} == world.announced_ids(tue, CATS)
        world.fail_next("/oai", *[503] * 3)
        listing = await source.listing(tue, CATS)
        assert listing.source == "arxiv api (submission dates)"
        assert {p.id for p in listing.papers} == world.announced_ids(tue, CATS)
        assert "submittedDate:[202510311800 TO 202511031859]" in unquote_plus(world.requests[-1][1])


async def test_a_missing_page_is_a_clear_error() -> None:
    async with ArxivWorld(real_days(MON, TUE), start=et(2025, 6, 9, 21)) as world:
        source, _ = source_for(world)
        with pytest.raises(ArxivUnavailable, match=r"arXiv has no page .*/list/cs\.XX/new"):
            await source.listing(TUE, ["cs.XX"])


async def test_a_configured_holiday_needs_the_pages_and_the_feed_to_agree() -> None:
    thu, fri = dt.date(2025, 6, 12), dt.date(2025, 6, 13)
    days = real_days(MON, TUE, WED, fri)  # no Thursday announcement
    async with ArxivWorld(days, start=et(2025, 6, 11, 21)) as world:
        source, _ = source_for(world, holidays=[thu])
        # Wed 21:00: the pages show Wednesday, but the feed is not rebuilt for Thursday yet.
        with pytest.raises(ListingNotReady, match="still show 2025-06-11"):
            await source.listing(thu, CATS)
        world.advance(hours=3, minutes=30)  # Thu 00:30: the feed states Thursday, empty
        listing = await source.listing(thu, CATS)
        assert listing.papers == [] and listing.source == "arxiv: no announcement (holiday)"
        assert paths(world)[-1] == "/rss/cs.CL+cs.CV"
        world.fail_next("/rss", *[503] * 3)  # a feed that does not answer confirms nothing
        with pytest.raises(ListingNotReady):
            await source.listing(thu, CATS)
