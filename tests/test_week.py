"""A week in the life of the bot against a fake arXiv that keeps arXiv's hours: each channel
gets each announcement's exact set of papers, once, on Mondays and Tuesdays too; a holiday, a
lagging index, a stale feed and downtime lose no day. The clock is the fake's: nothing waits."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App, open_app
from bot.chat.slack.poster import SlackPoster
from bot.errors import ListingNotReady
from bot.schedule.jobs import DailyJobs, Outcome
from bot.schedule.prescore import prescore
from bot.sources.arxiv import ArxivSource
from tests.conftest import MakeSettings
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.arxiv_world import NY, ArxivWorld, real_days, world_settings
from tests.fakes.slack_server import FakeSlack

CATS = ["cs.CL", "cs.CV"]
FRI0 = dt.date(2025, 6, 6)
WEEK = [dt.date(2025, 6, d) for d in (9, 10, 11, 12, 13)]  # Monday .. Friday listings
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Paris",
    "Asia/Tokyo",
    "Australia/Sydney",
]
SUNDAY_19 = dt.datetime(2025, 6, 8, 19, tzinfo=NY)
DST_WEEK = [dt.date(2025, 10, d) for d in (27, 28, 29, 30, 31)] + [dt.date(2025, 11, 3)]


async def world_app(
    make_settings: MakeSettings,
    world: ArxivWorld,
    claude: FakeAnthropic | None = None,
    **arxiv: object,
) -> App:
    """The bot's app on our Redis, its arXiv source on the world and its clock."""
    settings = make_settings(arxiv=world_settings(world, **arxiv), claude=claude)
    app = await open_app(settings)
    app.library.builder.source = ArxivSource(settings.arxiv, clock=world.clock)
    return app


async def subscribe(app: App, zones: list[str], last: dt.date = FRI0) -> list[str]:
    ids = []
    for i, zone in enumerate(zones):
        config = app.library.default_channel(f"slack:W{i}").model_copy(
            update={"subscribed": True, "schedule_time": "08:00", "timezone": zone, "max_papers": 3}
        )
        await app.store.save_channel(config)
        # Last week's Friday was delivered (the record a finished delivery leaves).
        await app.store.r.set(app.store.keys.last_delivered(config.id), last.isoformat())
        ids.append(config.id)
    return ids


def jobs_for(app: App, slack: FakeSlack, world: ArxivWorld) -> DailyJobs:
    poster = SlackPoster(
        AsyncWebClient(token="xoxb-test", base_url=slack.base_url + "/api/"), per_channel_interval=0
    )
    return app.jobs({"slack": poster}, owner="r1", clock=world.clock)


async def sweep_until(
    jobs: DailyJobs,
    world: ArxivWorld,
    end: dt.datetime,
    step: float = 0.5,
    on_tick: Callable[[dt.datetime], Awaitable[None]] | None = None,
    posted_at: dict[tuple[str, dt.date], dt.datetime] | None = None,
) -> list[Outcome]:
    """The periodic sweep every `step` hours of the fake clock until `end` (when each digest was
    posted, in UTC, into `posted_at`)."""
    outcomes: list[Outcome] = []
    while world.now < end:
        world.advance(hours=step)
        if on_tick:
            await on_tick(world.now)
        for o in await jobs.run_due(now=world.now):
            outcomes.append(o)
            if posted_at is not None and o.status == "posted" and o.day:
                posted_at[o.channel_id, o.day] = world.now.astimezone(dt.UTC)
    return outcomes


async def assert_exact(app: App, world: ArxivWorld, day: dt.date) -> None:
    stored = await app.store.get_listing(day, CATS)
    assert stored is not None, day
    assert {p.id for p in stored} == world.announced_ids(day, CATS), day


def dst_week() -> dict[dt.date, list[dict[str, Any]]]:
    """Six listings, Mon 27 Oct to Mon 3 Nov 2025, the real days' papers on them (announce type
    kept `new`: their June ids would read as replacements in November), a sixth under new ids."""
    days = real_days(*DST_WEEK[:5])
    days[DST_WEEK[5]] = [dict(r, id=f"2511.{90000 + i}") for i, r in enumerate(days[DST_WEEK[0]])]
    return {d: [dict(r, announce_type="new") for r in rows] for d, rows in days.items()}


async def test_a_week_in_five_time_zones_across_the_dst_change(
    make_settings: MakeSettings, fake_claude: FakeAnthropic
) -> None:
    # Paris left summer time on Sun 26 Oct, New York on Sun 2 Nov (Sydney is in summer time):
    # Monday 3 Nov's listing appears at 01:00 UTC, the others at 00:00 UTC. The RSS of cs.CV is
    # stale all week, arXiv answers 429 bursts with Retry-After every evening, the API's index
    # lags (not asked: the pages carry the abstracts).
    start = dt.datetime(2025, 10, 26, 19, 30, tzinfo=NY)
    async with (
        ArxivWorld(dst_week(), start=start, stale={"cs.CV": DST_WEEK[0]}) as world,
        FakeSlack() as slack,
    ):
        app = await world_app(make_settings, world, claude=fake_claude)
        channels = await subscribe(app, ZONES, last=dt.date(2025, 10, 24))
        jobs = jobs_for(app, slack, world)
        prescored: list[dt.date] = []
        bursts = 0

        async def evening(now: dt.datetime) -> None:
            nonlocal bursts
            local = now.astimezone(NY)
            if local == dt.datetime(2025, 10, 30, 0, 30, tzinfo=NY):
                # The pages fail after midnight: cs.CV's stale feed is not taken for Thursday.
                world.fail_next("/list", *[503] * 3)
                with pytest.raises(ListingNotReady, match="the RSS feed shows 2025-10-27"):
                    await app.library.builder.source.listing(DST_WEEK[3], CATS)
                await assert_exact(app, world, DST_WEEK[3])  # the stored listing is untouched
            if local.time() == dt.time(20, 30) and local.weekday() in (6, 0, 1, 2, 3):
                world.burst("/list/cs.CL", 2, retry_after=0.2)  # honoured: the third try works
                bursts += 1
                # At 20:30 ET prescoring scores the day just announced: the listing pages have it.
                report = await prescore(
                    app.store, app.library, app.prescoring, platforms={"slack"}, now=now
                )
                assert report.ran and report.criteria == 1 and not report.skipped
                prescored.append(report.day)

        posted_at: dict[tuple[str, dt.date], dt.datetime] = {}
        outcomes = await sweep_until(
            jobs,
            world,
            dt.datetime(2025, 11, 3, 18, 30, tzinfo=NY),
            step=1,
            on_tick=evening,
            posted_at=posted_at,
        )
        posted: dict[str, list[dt.date]] = defaultdict(list)
        for o in outcomes:
            assert o.status in ("posted", "already", "leased"), o
            if o.status == "posted" and o.day is not None:
                posted[o.channel_id].append(o.day)
        assert {c: posted[c] for c in channels} == {c: DST_WEEK for c in channels}
        assert prescored == DST_WEEK and bursts == 6 and not world.pending_faults
        assert any(p.startswith("/rss/cs.CL+cs.CV") for _, p in world.requests)
        for day in DST_WEEK:
            await assert_exact(app, world, day)
        for channel in channels:
            seen: set[str] = set()
            for day in DST_WEEK:
                record = await app.store.get_delivery(channel, day)
                ids = set(json.loads(record["papers"]))
                assert record["state"] == "posted" and ids <= world.announced_ids(day, CATS)
                assert not ids & seen  # nothing from a day it already got
                seen |= ids
        # 08:00 local at the first sweep after (sweeps at half past the hour), in UTC:
        utc = dt.UTC
        ny, paris, tokyo = channels[0], channels[2], channels[3]
        assert posted_at[ny, DST_WEEK[1]] == dt.datetime(2025, 10, 28, 12, 30, tzinfo=utc)  # EDT
        assert posted_at[ny, DST_WEEK[5]] == dt.datetime(2025, 11, 3, 13, 30, tzinfo=utc)  # EST
        assert posted_at[paris, DST_WEEK[1]] == dt.datetime(2025, 10, 28, 7, 30, tzinfo=utc)
        assert posted_at[paris, DST_WEEK[5]] == dt.datetime(2025, 11, 3, 7, 30, tzinfo=utc)
        # Tokyo: Friday's listing (00:00 UTC = 09:00 JST) the next morning; Monday's at 10:00 JST.
        assert posted_at[tokyo, DST_WEEK[4]] == dt.datetime(2025, 10, 31, 23, 30, tzinfo=utc)
        assert posted_at[tokyo, DST_WEEK[5]] == dt.datetime(2025, 11, 3, 23, 30, tzinfo=utc)
        await app.close()


async def test_an_unannounced_holiday_is_late_then_carried_by_the_next_day(
    make_settings: MakeSettings,
) -> None:
    # Thursday 06-12 has no announcement; Friday's listing carries its papers.
    days = real_days(*WEEK)
    days[WEEK[4]] = days[WEEK[4]] + days.pop(WEEK[3])
    start = dt.datetime(2025, 6, 11, 19, tzinfo=NY)
    async with (
        ArxivWorld(days, start=start, stale={"cs.CV": WEEK[1]}) as world,
        FakeSlack() as slack,
    ):
        app = await world_app(make_settings, world, max_wait_hours=3)
        [ny] = await subscribe(app, ["America/New_York"], last=WEEK[2])
        jobs = jobs_for(app, slack, world)
        outcomes = await sweep_until(jobs, world, dt.datetime(2025, 6, 13, 9, tzinfo=NY))
        statuses = [(o.day, o.status) for o in outcomes]
        assert statuses[0] == (WEEK[3], "waiting")  # Thu 08:00: the pages still show Wednesday
        assert statuses.count((WEEK[3], "late")) == 1  # said once, at 11:00
        assert statuses[-1] == (WEEK[4], "posted")
        late = [p["text"] for p in slack.posts() if "late" in p["text"]]
        assert len(late) == 1 and "Thu 12 Jun 2025" in late[0]
        assert await app.store.last_delivered(ny) == WEEK[4]
        assert await app.store.get_listing(WEEK[3], CATS) == []  # no announcement, confirmed
        # Friday's digest carries Thursday's window and says there was no announcement.
        said = [json.dumps(p) for p in slack.posts() if "did not announce" in json.dumps(p)]
        assert len(said) == 1 and "arXiv did not announce on Thu 12 Jun 2025 (holiday)." in said[0]
        await assert_exact(app, world, WEEK[4])
        await app.close()


@pytest.mark.parametrize("announced", [False, True], ids=["holiday", "announced-anyway"])
async def test_a_configured_holiday_is_said_only_if_arxiv_agrees(
    make_settings: MakeSettings, announced: bool
) -> None:
    days = real_days(*WEEK)  # Thursday configured as a holiday; arXiv skips it, or does not
    if not announced:
        days[WEEK[4]] = days[WEEK[4]] + days.pop(WEEK[3])
    start = dt.datetime(2025, 6, 11, 19, tzinfo=NY)
    async with ArxivWorld(days, start=start) as world, FakeSlack() as slack:
        app = await world_app(make_settings, world, holidays=[WEEK[3]])
        await subscribe(app, ["America/New_York"], last=WEEK[2])
        jobs = jobs_for(app, slack, world)
        outcomes = await sweep_until(jobs, world, dt.datetime(2025, 6, 13, 9, tzinfo=NY))
        said = [p["text"] for p in slack.posts() if "did not announce" in p["text"]]
        statuses = [(o.day, o.status) for o in outcomes]
        if announced:
            assert statuses == [(WEEK[3], "posted"), (WEEK[4], "posted")] and said == []
            await assert_exact(app, world, WEEK[3])
        else:
            assert statuses == [(WEEK[3], "empty"), (WEEK[4], "posted")]
            assert said == ["arXiv did not announce on Thu 12 Jun 2025 (holiday)."]
        await assert_exact(app, world, WEEK[4])
        await app.close()


async def test_catch_up_after_three_days_down_gets_exactly_those_days(
    make_settings: MakeSettings,
) -> None:
    days = real_days(*WEEK)
    # The index lags 38 h: the catch-up waits for it (Tuesday's, 37 h old) rather than post a
    # short listing.
    async with (
        ArxivWorld(days, start=SUNDAY_19, api_lag=dt.timedelta(hours=38)) as world,
        FakeSlack() as slack,
    ):
        app = await world_app(make_settings, world)
        [ny] = await subscribe(app, ["America/New_York"])
        jobs = jobs_for(app, slack, world)
        world.now = dt.datetime(2025, 6, 11, 9, tzinfo=NY)  # down since Sunday evening
        first = await jobs.run_due(now=world.now)
        assert [o.status for o in first] == ["waiting"]  # Tuesday's ids not in the index yet
        assert await app.store.get_listing(WEEK[1], CATS) is None  # nothing provisional stored
        assert await app.store.last_delivered(ny) == FRI0
        outcomes = await sweep_until(jobs, world, dt.datetime(2025, 6, 11, 11, tzinfo=NY))
        assert [(o.day, o.status) for o in outcomes][-1] == (WEEK[2], "posted")
        for day in WEEK[:3]:
            await assert_exact(app, world, day)
        header = next(p["text"] for p in slack.posts() if "Catch-up" in json.dumps(p))
        assert header
        assert await app.store.last_delivered(ny) == WEEK[2]
        await app.close()


@pytest.mark.parametrize("older", [False, True], ids=["recent-page", "oai-pmh"])
async def test_a_1700_paper_past_day_is_fetched_completely(
    make_settings: MakeSettings, older: bool
) -> None:
    from bot.sources.bundled import bundled_days, load_rows

    rows: dict[str, dict[str, Any]] = {}
    for day in bundled_days():
        for row in load_rows(day):
            if set(row["categories"]) & set(CATS):
                rows.setdefault(row["id"], row)
    real = list(rows.values())  # 1,648 real papers; a few copies under new ids make 1,700
    big = {r["id"]: r for r in real[:1700]}
    for i, row in enumerate(real[: 1700 - len(big)]):
        big[f"2506.{80000 + i}"] = dict(row, id=f"2506.{80000 + i}")
    filler = next(iter(rows.values()))
    days = {dt.date(2025, 6, 2): list(big.values())}
    later = [dt.date(2025, 6, d) for d in (3, 4, 5, 6, 9, 10)]
    for i, day in enumerate(later):
        days[day] = [dict(filler, id=f"2506.{99000 + i}")]
    at = dt.datetime(2025, 6, 10 if older else 5, 21, tzinfo=NY)
    async with ArxivWorld(days, start=at) as world:
        world.latency = 0.05  # 9 requests: 0.45 s, over the 0.3 s each request may take
        world.oai_page = 400  # five OAI-PMH pages, through resumption tokens
        app = await world_app(make_settings, world, timeout_seconds=0.3)
        listing = await app.library.listing(dt.date(2025, 6, 2), CATS)
        assert {p.id for p in listing.papers} == set(big)
        expected = "arxiv oai-pmh" if older else "arxiv recent + api"
        assert listing.source == expected
        await app.close()


@contextlib.asynccontextmanager
async def tuesday_late(
    make_settings: MakeSettings,
    late: dict[dt.date | tuple[dt.date, str], dt.timedelta],
    until: dt.datetime,
) -> AsyncIterator[tuple[ArxivWorld, FakeSlack, App, str, list[Outcome]]]:
    """A New York channel swept from Tue 07:00 ET to `until`, its Monday delivered, with
    `arxiv.max_wait_hours` 3 and the world's pages late as in `late`."""
    start = dt.datetime(2025, 6, 10, 7, tzinfo=NY)
    async with ArxivWorld(real_days(*WEEK), start=start, late=late) as world, FakeSlack() as slack:
        app = await world_app(make_settings, world, max_wait_hours=3)
        [ny] = await subscribe(app, ["America/New_York"], last=WEEK[0])
        outcomes = await sweep_until(jobs_for(app, slack, world), world, until)
        yield world, slack, app, ny, outcomes


async def test_a_late_announcement_is_said_once_then_posted_with_its_note(
    make_settings: MakeSettings,
) -> None:
    # Tuesday's listing reaches the pages 16 hours late (Tue 12:00 ET instead of Mon 20:00).
    late: dict[dt.date | tuple[dt.date, str], dt.timedelta] = {WEEK[1]: dt.timedelta(hours=16)}
    until = dt.datetime(2025, 6, 10, 13, tzinfo=NY)
    async with tuesday_late(make_settings, late, until) as (world, slack, app, ny, outcomes):
        assert [o.status for o in outcomes] == ["waiting"] * 6 + ["late", "waiting", "posted"]
        texts = [json.dumps(p) for p in slack.posts()]
        assert sum("digest is late" in t for t in texts) == 1
        assert any("confirmed this day late" in t for t in texts)
        await assert_exact(app, world, WEEK[1])
        assert await app.store.last_delivered(ny) == WEEK[1]
        await app.close()


async def test_a_partly_confirmed_day_posts_its_confirmed_categories_and_the_rest_next(
    make_settings: MakeSettings,
) -> None:
    # Tuesday's cs.CV pages turn 20 hours late (Tue 16:00 ET); cs.CL's turned on time.
    tue, wed = WEEK[1], WEEK[2]
    late: dict[dt.date | tuple[dt.date, str], dt.timedelta] = {
        (tue, "cs.CV"): dt.timedelta(hours=20)
    }
    until = dt.datetime(2025, 6, 11, 9, tzinfo=NY)
    async with tuesday_late(make_settings, late, until) as (world, slack, app, ny, outcomes):
        statuses = [(o.day, o.status) for o in outcomes]
        # Waited the 3 hours (08:00-10:30), then posted what is confirmed; Wednesday as usual.
        assert statuses == [(tue, "waiting")] * 6 + [(tue, "posted"), (wed, "posted")]
        texts = [json.dumps(p) for p in slack.posts()]
        assert sum("arXiv has not announced cs.CV for this day yet" in t for t in texts) == 1
        assert not any("digest is late" in t for t in texts)
        first = await app.store.get_delivery(ny, tue)
        assert first["pending"] == "cs.CV"
        got_tue = set(json.loads(first["papers"]))
        assert got_tue and got_tue <= world.announced_ids(tue, ["cs.CL"])
        assert await app.store.get_listing(tue, CATS) is None  # never stored as final
        # The next digest read Tuesday's cs.CV, confirmed since, and re-posted nothing.
        listing = await app.store.get_listing(tue, ["cs.CV"])
        assert listing is not None
        assert {p.id for p in listing} == world.announced_ids(tue, ["cs.CV"])
        got_wed = set(json.loads((await app.store.get_delivery(ny, wed))["papers"]))
        assert got_wed and not got_wed & got_tue
        assert got_wed <= world.announced_ids(wed, CATS) | world.announced_ids(tue, ["cs.CV"])
        assert await app.store.last_delivered(ny) == wed
        await app.close()
