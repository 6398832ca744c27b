"""The daily job on several replicas: exactly one digest per channel and day, resumed after a
crash, one ops message on failure. Real Redis, the real Slack poster against the fake Slack API."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App
from bot.chat.slack.poster import SlackPoster
from bot.deliver import Progress
from bot.schedule.calendar import latest_announcement
from tests.conftest import DAY, MakeApp
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_server import FakeSlack

# Tuesday 2025-06-10 23:30 UTC: the latest announcement is still the recorded 2025-06-10 listing
# (Wednesday's comes at 00:00 UTC), and it is due by now at 08:00 in every zone below, Tokyo and
# Sydney included (there it was announced mid-morning, so it is due at 08:00 the next day).
NOW = dt.datetime(2025, 6, 10, 23, 30, tzinfo=dt.UTC)
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


def poster_for(fake: FakeSlack) -> SlackPoster:
    return SlackPoster(
        AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/"), per_channel_interval=0
    )


async def subscribe(app: App, n: int, **update: Any) -> list[str]:
    ids = []
    for i in range(n):
        config = app.library.default_channel(f"slack:C{i:03d}").model_copy(
            update={
                "subscribed": True,
                "schedule_time": "08:00",
                "timezone": ZONES[i % len(ZONES)],
                "max_papers": 3,
                **update,
            }
        )
        await app.store.save_channel(config)
        ids.append(config.id)
    return ids


def headers_per_channel(fake: FakeSlack) -> Counter[str]:
    return Counter(p["channel"] for p in fake.posts() if "thread_ts" not in p)


async def test_three_replicas_post_each_channel_exactly_once(
    make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    assert latest_announcement(NOW) == DAY
    replicas = [await make_app() for _ in range(3)]
    channels = await subscribe(replicas[0], 50)
    jobs = [
        app.jobs({"slack": poster_for(fake_slack)}, owner=f"r{i}") for i, app in enumerate(replicas)
    ]
    # Every replica fires every channel's job at once, twice (a retry sweep), as APScheduler would.
    outcomes = await asyncio.gather(*(j.run_due(now=NOW) for j in jobs for _ in range(2)))
    statuses = Counter(o.status for batch in outcomes for o in batch)
    assert statuses["posted"] == 50
    per_channel = headers_per_channel(fake_slack)
    assert set(per_channel) == {c.split(":")[1] for c in channels}
    assert set(per_channel.values()) == {1}
    entries = [
        (p["channel"], p["thread_ts"], p["text"]) for p in fake_slack.posts() if "thread_ts" in p
    ]
    assert len(entries) == len(set(entries)) == 50 * 3
    for channel in channels:
        assert await replicas[0].store.last_delivered(channel) == DAY
        assert len(await replicas[0].store.posted_ids(channel)) == 3
    # The next sweep finds nothing to do.
    assert await jobs[0].run_due(now=NOW) == []
    assert len(fake_slack.posts()) == 50 * 4


async def test_a_delivery_cut_mid_post_is_resumed_without_duplicates(
    make_app: MakeApp, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = await make_app()
    [channel] = await subscribe(app, 1, max_papers=6)
    poster = poster_for(fake_slack)

    class Crash(BaseException):  # not an error the job handles: the process dies
        pass

    calls = 0
    original = Progress.record

    async def crash_after_three(self: Progress, key: str, message_id: str) -> None:
        nonlocal calls
        await original(self, key, message_id)
        calls += 1
        if calls == 3:
            raise Crash  # the process dies right after the platform accepted a message

    with monkeypatch.context() as patched, pytest.raises(Crash):
        patched.setattr(Progress, "record", crash_after_three)
        await app.jobs({"slack": poster}, owner="dying").run_channel(channel, now=NOW)
    assert (await app.store.get_delivery(channel, DAY))["state"] == "posting"
    outcome = await app.jobs({"slack": poster}, owner="survivor").run_channel(channel, now=NOW)
    assert outcome.status == "posted"
    texts = [p["text"] for p in fake_slack.posts()]
    assert len(texts) == len(set(texts)) == 1 + 6
    assert (await app.store.get_delivery(channel, DAY))["state"] == "posted"


async def test_arxiv_down_reports_once_and_is_retried_later(
    make_app: MakeApp, fake_slack: FakeSlack, fake_arxiv: FakeArxiv
) -> None:
    app = await make_app()
    channels = await subscribe(app, 2)
    jobs = app.jobs({"slack": poster_for(fake_slack)}, owner="r1")
    # 3 sweeps x 2 channels x 3 tries (retries=2): arXiv answers 503 to every one of them.
    fake_arxiv.fail_next("/list", *[503] * 18)
    for _ in range(3):
        outcomes = await jobs.run_due(now=NOW)
        assert {o.status for o in outcomes} == {"failed"}
    notices = [p for p in fake_slack.posts() if "could not be built" in p["text"]]
    assert sorted(p["channel"] for p in notices) == ["C000", "C001"]  # once each, not a flood
    assert not any(fake_arxiv.pending_faults.values())  # arXiv is back
    outcomes = await jobs.run_due(now=NOW)
    assert [o.status for o in outcomes] == ["posted", "posted"]
    assert [await app.store.last_delivered(c) for c in channels] == [DAY, DAY]


async def test_redis_gone_mid_job_loses_nothing(
    make_app: MakeApp, fake_slack: FakeSlack, redis_server: RedisServer
) -> None:
    app = await make_app()
    [channel] = await subscribe(app, 1)
    jobs = app.jobs({"slack": poster_for(fake_slack)}, owner="r1")
    listing = await app.library.listing(DAY, ["cs.CL", "cs.CV"])
    assert listing.papers
    redis_server.stop()
    outcome = await jobs.run_channel(channel, now=NOW)
    assert outcome.status == "failed" and "Redis" in outcome.detail
    redis_server.start()  # an empty Redis again: settings must be re-created by the channel
    await subscribe(app, 1)
    outcome = await jobs.run_channel(channel, now=NOW)
    assert outcome.status == "posted"


async def test_weekend_posts_nothing_and_unsubscribed_channels_are_skipped(
    make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    app = await make_app()
    [channel] = await subscribe(app, 1)
    jobs = app.jobs({"slack": poster_for(fake_slack)}, owner="r1")
    assert (await jobs.run_channel(channel, now=NOW)).status == "posted"
    saturday = dt.datetime(2025, 6, 14, 12, tzinfo=dt.UTC)  # Friday's listing, not recorded here
    posts = len(fake_slack.posts())
    assert (await jobs.run_channel(channel, now=NOW + dt.timedelta(minutes=20))).status == "already"
    config = await app.store.get_channel(channel)
    assert config is not None
    await app.store.save_channel(config.model_copy(update={"subscribed": False}))
    assert (await jobs.run_channel(channel, now=saturday)).status == "unsubscribed"
    assert len(fake_slack.posts()) == posts


@pytest.mark.parametrize("with_claude", [False, True])
async def test_weekly_rollup_puts_liked_papers_first_and_posts_once(
    make_app: MakeApp, fake_slack: FakeSlack, fake_claude: FakeAnthropic, with_claude: bool
) -> None:
    from bot.chat.commands import Invocation
    from bot.chat.feedback import record_reaction

    app = await make_app(claude=fake_claude if with_claude else None)
    [channel] = await subscribe(app, 1, max_papers=4)
    reply = await app.commands().handle(Invocation(channel, "U1", "weekly friday"))
    assert not reply.error and "every fri" in reply.text
    jobs = app.jobs({"slack": poster_for(fake_slack)}, owner="r1")
    assert (await jobs.run_channel(channel, now=NOW)).status == "posted"
    entries = [p for p in fake_slack.posts() if "thread_ts" in p]
    last = entries[-1]  # the lowest-ranked paper of the day...
    await record_reaction(
        app.store,
        platform="slack",
        message_id=f"C000:{fake_slack.history['C000'][-1]['ts']}",
        user="U1",
        emoji="+1",
        added=True,
    )
    friday = NOW + dt.timedelta(days=3)
    calls = len(fake_claude.requests)
    outcome = await jobs.run_weekly(channel, now=friday)
    assert len(fake_claude.requests) == calls  # the week's scores come from the score cache
    assert outcome.status == "posted" and outcome.papers == 4
    weekly_entries = [p for p in fake_slack.posts() if "thread_ts" in p][len(entries) :]
    title = last["text"].rsplit(" (", 1)[0]
    assert weekly_entries[0]["text"].startswith(title)  # ...comes first once the channel liked it
    assert (await jobs.run_weekly(channel, now=friday)).status == "already"


async def test_weekly_rollup_of_a_week_with_no_posts_says_so_and_does_not_crash(
    make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    app = await make_app()
    [channel] = await subscribe(app, 1, weekly_day="fri")
    jobs = app.jobs({"slack": poster_for(fake_slack)}, owner="r1")
    outcome = await jobs.run_weekly(channel, now=NOW + dt.timedelta(days=3))
    assert outcome.status != "failed", outcome
    assert not [p for p in fake_slack.posts() if "Traceback" in p.get("text", "")]
