"""Nothing lost, nothing twice, in-process: `digest now` broken halfway and retried, Redis restarted
mid-delivery (with and without persistence), a hung Slack API, explain notes during a digest.
Real redis-server processes, the real Slack and Discord clients against their fakes."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.app import App
from bot.chat.discord import ArxivDiscordBot
from bot.chat.posting import post_now
from bot.chat.slack.poster import SlackPoster
from bot.deliver import Progress, deliver
from bot.errors import ChatUnavailable, LeaseLost, StoreUnavailable
from bot.models import Digest, Score, ScoredPaper
from bot.records import PaperThread, Reply
from bot.schedule.jobs import DailyJobs
from bot.schedule.scheduler import Scheduler
from bot.sources.bundled import BundledSource
from bot.store import Store
from bot.store.store import Lease
from tests.conftest import DAY, MakeApp
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_server import FakeSlack
from tests.test_jobs import NOW, subscribe

GUILD, DISCORD_CHANNEL = 1300, 555


def slack_poster(fake: FakeSlack, *, interval: float = 0, timeout: float = 15) -> SlackPoster:
    client = AsyncWebClient(token="xoxb-test", base_url=fake.base_url + "/api/")
    return SlackPoster(client, per_channel_interval=interval, call_timeout=timeout)


async def digest_for(channel: str, n: int) -> Digest:
    listing = await BundledSource().listing(DAY, ["cs.CL", "cs.CV"])
    papers = [
        ScoredPaper(
            paper=p,
            score=Score(paper_id=p.id, relevance=9, novelty=6, comment="Fits.", scorer="local"),
        )
        for p in listing.papers[:n]
    ]
    return Digest(channel=channel, day=DAY, fetched=n, scanned=n, papers=papers)


def slack_entries(fake: FakeSlack, channel: str) -> list[str]:
    return [
        found.group(1)
        for p in fake.posts(channel)
        if p.get("thread_ts") and (found := re.search(r"arXiv:(\d{4}\.\d{4,5})", str(p["blocks"])))
    ]


def slack_headers(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    """The digest headers (notices carry no delivery metadata)."""
    return [p for p in fake.posts(channel) if not p.get("thread_ts") and p.get("metadata")]


# ------------------------------------------------------------------------ digest now, retried
async def test_slack_digest_now_broken_at_the_4th_message_continues_on_retry(
    make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    app = await make_app(offline=True)
    poster = slack_poster(fake_slack)
    digest = await digest_for("slack:C1", 6)
    fake_slack.fail_next("chat.postMessage", 0, 0, 0, 500)  # header, 2 papers, then a 5xx
    first = await post_now(app.store, poster, digest, trigger="t1")
    assert first.error and "2 of 6 papers were posted" in first.text
    assert "continues where it stopped" in first.text
    second = await post_now(app.store, poster, digest, trigger="t2")  # a new request
    assert not second.error and "remaining 4 papers of 6" in second.text
    assert len(slack_headers(fake_slack, "C1")) == 1
    entries = slack_entries(fake_slack, "C1")
    assert sorted(entries) == sorted(s.paper.id for s in digest.papers)  # each once
    assert len({p["thread_ts"] for p in fake_slack.posts("C1") if p.get("thread_ts")}) == 1
    third = await post_now(app.store, poster, digest, trigger="t3")
    assert "nothing posted" in third.text


@contextlib.asynccontextmanager
async def discord_bot_on(
    make_app: MakeApp, **settings: Any
) -> AsyncIterator[tuple[FakeDiscord, ArxivDiscordBot]]:
    """A logged-in ArxivDiscordBot on an offline App, against a FakeDiscord."""
    async with (
        FakeDiscord(guild_id=GUILD, bot_user_id=1200) as fake,
        fake.patch_discord(),
    ):
        app = await make_app(offline=True, **settings)
        bot = ArxivDiscordBot(app.chat(app.commands()))
        await bot.login("token")
        try:
            yield fake, bot
        finally:
            await bot.close()


@pytest.fixture
async def discord_bot(make_app: MakeApp) -> AsyncIterator[tuple[FakeDiscord, ArxivDiscordBot]]:
    async with discord_bot_on(make_app) as pair:
        yield pair


async def test_discord_digest_now_broken_by_a_503_continues_on_retry(
    discord_bot: tuple[FakeDiscord, ArxivDiscordBot],
) -> None:
    fake, bot = discord_bot
    digest = await digest_for(f"discord:{DISCORD_CHANNEL}", 6)
    fake.fail_next_messages(0, 0, 0, 503)
    first = await post_now(bot.store, bot.poster, digest, trigger="1")
    assert first.error and "2 of 6 papers were posted" in first.text
    second = await post_now(bot.store, bot.poster, digest, trigger="2")
    assert "remaining 4 papers of 6" in second.text
    assert len(fake.messages(DISCORD_CHANNEL)) == 1  # the header, once
    assert sorted(discord_entries(fake)) == sorted(s.paper.id for s in digest.papers)


def discord_entries(fake: FakeDiscord) -> list[str]:
    return [
        m["embeds"][0]["url"].rsplit("/", 1)[1]
        for m in fake.messages()
        if m.get("embeds") and "/abs/" in m["embeds"][0].get("url", "")
    ]


async def test_discord_progress_that_redis_lost_is_rebuilt_from_the_channel(
    discord_bot: tuple[FakeDiscord, ArxivDiscordBot],
) -> None:
    fake, bot = discord_bot
    fake.nonce_window = 0  # long ago: Discord's nonces no longer help, only the channel does
    store, channel = bot.store, f"discord:{DISCORD_CHANNEL}"
    digest = await digest_for(channel, 5)
    fake.fail_next_messages(0, 0, 0, 503)
    with pytest.raises(ChatUnavailable):
        progress = await Progress.load(store, channel, DAY, resumed=False)
        await deliver(store, bot.poster, digest, marker="m", progress=progress)
    for i in range(120):  # the channel goes on: the header is now 2 pages of history back
        await bot.poster.post_text(str(DISCORD_CHANNEL), f"chatter {i}")
    await store.r.flushall()  # Redis restarted without persistence
    progress = await Progress.load(store, channel, DAY, resumed=False)
    await deliver(store, bot.poster, digest, marker="m", progress=progress)
    assert len(fake.messages(DISCORD_CHANNEL)) == 1 + 120
    assert sorted(discord_entries(fake)) == sorted(s.paper.id for s in digest.papers)
    assert set(progress.done) == {"header-0", *(f"paper-{s.paper.id}" for s in digest.papers)}


# ------------------------------------------------------------------- one pacer per channel
async def test_notes_and_mentions_during_a_digest_share_its_pace(make_app: MakeApp) -> None:
    async with FakeSlack(rate_limit_per_channel=5) as fake:  # 5 messages a second, then 429
        app = await make_app(offline=True)
        poster = slack_poster(fake, interval=0.25)
        digest = await digest_for("slack:C1", 6)
        notes = [Reply(text=f"Note {i} on a paper.") for i in range(3)]
        await asyncio.gather(
            post_now(app.store, poster, digest, trigger="t"),
            *(poster.post_reply("C1", note, thread_ts=None) for note in notes),
            poster.post_text("C1", "<@U1> new on **Diffusion**"),
        )
        assert fake.rate_limited == 0
        texts = [p["text"] for p in fake.posts("C1")]
        assert all(any(f"Note {i}" in t for t in texts) for i in range(3))
        assert len(texts) == 1 + 6 + 3 + 1


# ------------------------------------------------------------------------ Redis restarted
@pytest.mark.parametrize("appendonly", [True, False], ids=["aof", "no-persistence"])
async def test_redis_restarted_mid_delivery_posts_every_entry_exactly_once(
    make_app: MakeApp, appendonly: bool
) -> None:
    with RedisServer(appendonly=appendonly) as redis_server:
        async with FakeSlack(latency=0.03) as fake:
            replicas = [await make_app(redis_url=redis_server.url) for _ in range(3)]
            channels = await subscribe(replicas[0], 12, max_papers=5)
            jobs = [
                app.jobs({"slack": slack_poster(fake)}, owner=f"r{i}", lease_ms=3000)
                for i, app in enumerate(replicas)
            ]

            async def delivered() -> bool:
                try:
                    days = [await replicas[0].store.last_delivered(c) for c in channels]
                except Exception:
                    return False
                return days == [DAY] * len(channels)

            async def sweep(job: DailyJobs) -> None:
                while not await delivered():
                    with contextlib.suppress(StoreUnavailable):  # Redis away: sweep again
                        await job.run_due(now=NOW)
                    await asyncio.sleep(0.1)

            sweeps = [asyncio.create_task(sweep(j)) for j in jobs]
            while len(fake.posts()) < 25:
                await asyncio.sleep(0.005)
            redis_server.kill()  # mid-delivery; with AOF, up to its last second is lost
            await asyncio.sleep(0.5)
            redis_server.start()
            if not appendonly:  # an empty Redis: the channels set themselves up again
                await subscribe(replicas[0], 12, max_papers=5)
            await asyncio.wait_for(asyncio.gather(*sweeps), 60)
    for channel in channels:
        native = channel.split(":")[1]
        assert len(slack_headers(fake, native)) == 1, native
        entries = slack_entries(fake, native)
        assert len(entries) == len(set(entries)) == 5, (native, entries)
    assert not [p for p in fake.posts() if "could not be built" in p["text"]]


async def test_a_weekly_rollup_broken_halfway_is_continued_not_repeated(
    make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    app = await make_app()
    [channel] = await subscribe(app, 1, max_papers=4, weekly_day="fri")
    jobs = app.jobs({"slack": slack_poster(fake_slack)}, owner="r1")
    assert (await jobs.run_channel(channel, now=NOW)).status == "posted"
    daily = len(fake_slack.posts())
    friday = NOW + dt.timedelta(days=3)
    fake_slack.fail_next("chat.postMessage", 0, 0, 503)  # the roll-up's header and 1st paper
    assert (await jobs.run_weekly(channel, now=friday)).status == "failed"
    assert (await jobs.run_weekly(channel, now=friday)).status == "posted"
    weekly = fake_slack.posts()[daily:]
    assert len([p for p in weekly if not p.get("thread_ts")]) == 1
    entries = slack_entries(fake_slack, "C000")[daily - 1 :]
    assert len(entries) == len(set(entries)) == 4
    assert (await jobs.run_weekly(channel, now=friday)).status == "already"


# ------------------------------------------------------------------------ Slack hangs
async def test_a_hung_slack_fails_the_job_visibly_and_the_next_sweep_completes_it(
    make_app: MakeApp, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    app = await make_app()
    [channel] = await subscribe(app, 1, max_papers=6)
    jobs = app.jobs({"slack": slack_poster(fake_slack, timeout=0.5)}, owner="r1")
    run = asyncio.create_task(jobs.run_channel(channel, now=NOW))
    while len(fake_slack.posts()) < 3:
        await asyncio.sleep(0.005)
    hold = fake_slack.hang()
    outcome = await asyncio.wait_for(run, 10)  # not stuck, not raised
    assert outcome.status == "failed" and outcome.detail == "Slack did not answer in time."
    hold.set()  # Slack answers again (and carries out the calls it held)
    fake_slack.hold = None
    await asyncio.sleep(0.1)
    assert (await jobs.run_channel(channel, now=NOW)).status == "posted"
    assert len(slack_headers(fake_slack, "C000")) == 1
    entries = slack_entries(fake_slack, "C000")
    assert len(entries) == len(set(entries)) == 6
    notices = [p for p in fake_slack.posts("C000") if "could not be built" in p["text"]]
    assert len(notices) == 1  # 15 hours late: said once, in words
    assert "Task exception was never retrieved" not in caplog.text


async def test_a_background_task_that_fails_is_logged_and_counted(
    make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    app = await make_app()
    scheduler = Scheduler(app.jobs({}, owner="r1"))

    async def boom() -> None:
        raise TimeoutError

    before = metrics.BACKGROUND_FAILURES.labels(task="digest")._value.get()
    with caplog.at_level(logging.ERROR, logger="bot.schedule.scheduler"):
        scheduler._spawn(boom(), "digest:slack:C1")
        await asyncio.sleep(0.05)
    assert metrics.BACKGROUND_FAILURES.labels(task="digest")._value.get() == before + 1
    assert "background task digest:slack:C1 failed" in caplog.text
    assert not scheduler._tasks


async def test_a_replica_whose_lease_expired_writes_nothing(
    make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    app = await make_app()
    [channel] = await subscribe(app, 1, max_papers=3)
    store = app.store
    lease = f"digest:{channel}:{DAY}"
    token = await store.acquire(lease, ttl_ms=60_000)
    await store.r.delete(store.keys.lock(lease))  # expired; a survivor takes it
    survivor = await store.acquire(lease, ttl_ms=60_000)
    assert token is not None and survivor is not None
    with pytest.raises(LeaseLost):
        await store.set_delivery(channel, DAY, lease=Lease(lease, token), state="failed")
    with pytest.raises(LeaseLost):
        await store.record_progress(
            f"{channel}:{DAY}", "header-0", "C:1", lease=Lease(lease, token)
        )
    assert await store.get_delivery(channel, DAY) == {}
    await store.set_delivery(channel, DAY, lease=Lease(lease, survivor), state="posting")
    assert (await store.get_delivery(channel, DAY))["state"] == "posting"


def test_default_lease_resumes_within_seconds() -> None:
    from bot.settings import Settings

    assert Settings().job_lease_seconds == 15  # takeover checks every 5 s: resumed in ~20 s
    assert dt.timedelta(seconds=Settings().job_lease_seconds * 4 / 3) < dt.timedelta(seconds=60)


# ------------------------------------------------------------- the platform's record, read back
async def test_recovery_reads_the_channel_back_to_the_days_header(
    make_app: Callable[..., Awaitable[App]], fake_slack: FakeSlack
) -> None:
    app = await make_app(offline=True)
    poster, store = slack_poster(fake_slack), app.store
    digest = await digest_for("slack:C1", 4)
    fake_slack.fail_next("chat.postMessage", 0, 0, 0, 500)  # header and 2 papers, then a 5xx
    with pytest.raises(ChatUnavailable):
        await deliver(store, poster, digest, marker="m", progress=await progress_of(store))
    for i in range(250):  # the channel goes on: the header is now 3 pages of history back
        await poster.post_text("C1", f"chatter {i}")
    await store.r.flushall()  # Redis restarted without persistence
    progress = await progress_of(store)
    await deliver(store, poster, digest, marker="m", progress=progress)
    assert len(slack_headers(fake_slack, "C1")) == 1
    assert sorted(slack_entries(fake_slack, "C1")) == sorted(s.paper.id for s in digest.papers)
    pages = [a for m, a in fake_slack.calls if m == "conversations.history"]
    assert [bool(a.get("cursor")) for a in pages[1:]] == [False, True]  # 200 + 200: found


async def test_unreadable_slack_history_is_warned_once_and_delivery_goes_on(
    make_app: Callable[..., Awaitable[App]],
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = await make_app(offline=True)
    poster, store = slack_poster(fake_slack), app.store
    fake_slack.scopes -= {"channels:history", "groups:history"}
    with caplog.at_level(logging.WARNING, logger="bot.chat.slack.poster"):
        poster.note_scopes(await poster.client.auth_test())  # at start-up
        for channel in ("slack:C1", "slack:C2"):
            digest = await digest_for(channel, 2)
            progress = await progress_of(store, channel)
            await deliver(store, poster, digest, marker=channel, progress=progress)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "channels:history and groups:history" in warnings[0]
    assert [len(slack_entries(fake_slack, c)) for c in ("C1", "C2")] == [2, 2]


async def progress_of(store: Store, channel: str = "slack:C1") -> Progress:
    return await Progress.load(store, channel, DAY, resumed=False)


async def test_a_replica_that_lost_its_lease_posts_no_further_message(
    make_app: Callable[..., Awaitable[App]], fake_slack: FakeSlack
) -> None:
    """The renewal was starved (a busy loop) and a survivor took the lease: the next message is
    not sent at all, rather than sent and then refused a record (one duplicate per takeover)."""
    app = await make_app(offline=True)
    progress = await _leased_progress(app.store)
    await _survivor_takes(app.store, fake_slack, progress)


async def test_a_record_renewal_fences_only_while_fresh(
    make_app: Callable[..., Awaitable[App]], fake_slack: FakeSlack
) -> None:
    """Each message's record renews the lease and stands for the next message's fence only
    briefly: a replica starved after its last record (a survivor took the lease meanwhile)
    fences again and posts nothing more."""
    app = await make_app(offline=True)
    store = app.store
    progress = await _leased_progress(store)
    await progress.record("header-0", "C1:1.000001")
    assert progress.lease is not None and progress.renewed_at is not None
    assert await store.r.pttl(store.keys.lock(progress.lease.name)) > 59_000  # renewed
    progress.renewed_at -= 60  # starved for a minute since
    await _survivor_takes(store, fake_slack, progress)


async def _leased_progress(store: Store) -> Progress:
    name = f"digest:slack:C1:{DAY}"
    token = await store.acquire(name, ttl_ms=60_000)
    assert token is not None
    return await Progress.load(
        store, "slack:C1", DAY, resumed=False, lease=Lease(name, token), lease_ms=60_000
    )


async def _survivor_takes(store: Store, fake_slack: FakeSlack, progress: Progress) -> None:
    """The lease lapses and a survivor takes it: the next message is never posted."""
    assert progress.lease is not None
    await store.r.delete(store.keys.lock(progress.lease.name))
    assert await store.acquire(progress.lease.name, ttl_ms=60_000)  # the survivor
    with pytest.raises(LeaseLost):
        await slack_poster(fake_slack).post_digest(
            "C1", await digest_for("slack:C1", 3), marker="m", progress=progress
        )
    assert fake_slack.posts() == []


async def test_discord_posts_of_every_kind_keep_within_the_channels_bucket(
    discord_bot: tuple[FakeDiscord, ArxivDiscordBot],
) -> None:
    """Digest, explain notes, a watch mention and a reply in a new thread, all at once in one
    channel whose bucket allows 5 messages a second: discord.py's one bucket per channel route
    (every post goes through the bot's one HTTP client, X-RateLimit-* headers) spaces them, so
    Discord never answers 429."""
    fake, bot = discord_bot
    fake.rate_limit_per_channel = 5
    digest = await digest_for(f"discord:{DISCORD_CHANNEL}", 6)
    notes = [Reply(text=f"Note {i} on a paper.") for i in range(3)]
    opened = PaperThread(paper_id="2506.01234", title="A paper", asker="42")
    await asyncio.gather(
        post_now(bot.store, bot.poster, digest, trigger="t"),
        *(bot.poster.post_reply(DISCORD_CHANNEL, note) for note in notes),
        bot.poster.post_text(str(DISCORD_CHANNEL), "<@42> new on **Diffusion**"),
        bot.poster.post_in_thread(str(DISCORD_CHANNEL), opened, notes[0], guild_id=GUILD),
    )
    assert fake.rate_limited == 0
    assert len(fake.messages(DISCORD_CHANNEL)) == 1 + 3 + 1 + 1  # header, notes, mention, opener
    assert sorted(discord_entries(fake)) == sorted(s.paper.id for s in digest.papers)
    assert len(fake.messages()) == 6 + 6 + 1  # and the reply in the opener's thread
