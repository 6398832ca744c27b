"""Past days older than the recent pages' five, from OAI-PMH against a fake that serves its
datestamps and resumption tokens: each day's exact papers, though datestamps are not
announcement days (moderation holds, later metadata changes)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.errors import ListingUnreadable
from bot.settings import ArxivSettings
from bot.sources.arxiv import ArxivSource
from bot.sources.oai import oai_sets, parse_list_records
from tests.fakes.arxiv_world import NY, ArxivWorld, real_days, world_settings

CATS = ["cs.CL", "cs.CV"]
MON, TUE, WED = dt.date(2025, 6, 9), dt.date(2025, 6, 10), dt.date(2025, 6, 11)
LATER = [dt.date(2025, 6, d) for d in (12, 13, 16, 17, 18, 19)]


def old_world(**kwargs: object) -> ArxivWorld:
    days = real_days(MON, TUE, WED)
    filler = days[MON][0]
    days |= {d: [dict(filler, id=f"2506.{99000 + i}")] for i, d in enumerate(LATER)}
    return ArxivWorld(days, start=dt.datetime(2025, 6, 19, 21, tzinfo=NY), **kwargs)  # type: ignore[arg-type]


def source_for(world: ArxivWorld, waits: list[float]) -> ArxivSource:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        world.advance(seconds=seconds)

    settings = ArxivSettings(**world_settings(world, retry_after_cap_seconds=20))  # type: ignore[arg-type]
    return ArxivSource(settings, clock=world.clock, sleep=sleep)


async def test_three_old_days_come_whole_from_oai_pmh_held_and_restamped_records_included() -> None:
    async with old_world(held=40) as world:
        world.oai_page = 300  # resumption tokens page through each harvest
        # A journal reference added to one of Monday's papers on the 18th: stamped then, still
        # Monday's. A paper held back by moderation: submitted in Monday's window, on Tuesday.
        moved = sorted(world.announced_ids(MON, CATS))[0]
        world.restamped[moved] = dt.date(2025, 6, 18)
        held = [r["id"] for r in real_days(MON, TUE, WED)[TUE][::40][1:2]]
        waits: list[float] = []
        source = source_for(world, waits)
        world.fail_next("/oai", 503)  # OAI-PMH's flow control: 503 with Retry-After
        world.retry_after = "30"
        got = {}
        for day in (MON, TUE, WED):
            listing = await source.listing(day, CATS)
            assert listing.source == "arxiv oai-pmh"
            got[day] = {p.id for p in listing.papers}
            assert got[day] == world.announced_ids(day, CATS), day
            assert all(p.abstract and p.title and p.authors for p in listing.papers)
        assert moved in got[MON] and set(held) <= got[TUE]
        assert not (got[MON] & got[TUE] or got[TUE] & got[WED])
        assert waits == [20]  # Retry-After honoured up to its cap
        queries = [parse_qs(urlsplit(p).query) for _, p in world.requests if p.startswith("/oai")]
        assert any("resumptionToken" in q for q in queries)
        first = queries[1]  # after the 503
        assert first["metadataPrefix"] == ["arXivRaw"] and first["set"] == ["cs"]
        assert first["from"] == ["2025-06-05"] and first["until"] == ["2025-06-20"]
        assert not any(p.startswith("/api") for _, p in world.requests)  # nothing lacked


async def test_oai_pmh_down_falls_back_to_the_api_date_search() -> None:
    async with old_world() as world:
        waits: list[float] = []
        source = source_for(world, waits)
        world.fail_next("/oai", *[503] * 3)
        listing = await source.listing(TUE, CATS)
        assert listing.source == "arxiv api (submission dates)"
        assert {p.id for p in listing.papers} == world.announced_ids(TUE, CATS)


def test_an_oai_error_or_a_short_harvest_is_said() -> None:
    error = (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badArgument">'
        "until before from</error></OAI-PMH>"
    )
    with pytest.raises(ListingUnreadable, match="refused the request: badArgument"):
        parse_list_records(error)
    with pytest.raises(ListingUnreadable, match="not XML"):
        parse_list_records("<html><body>Bad Gateway")
    none = '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="noRecordsMatch"/></OAI-PMH>'
    assert parse_list_records(none) == ([], "", 0)
    assert oai_sets(["cs.CL", "cs.CV", "hep-th", "math.AG"]) == ["cs", "physics:hep-th", "math"]
