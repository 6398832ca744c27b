"""Issue 15's scale, with real processes: 3 `arxiv-bot run` replicas, a real redis-server of the
test's own (AOF `everysec` where the issue says so), 40 Slack channels of 15 papers each (600
entries and 40 headers), the fake Slack API without per-message latency. Redis restarted
mid-delivery, with and without persistence; a replica killed -9 with messages in flight, at the
default lease and sweep."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.schedule.calendar import latest_announcement
from bot.store import REDIS_ERRORS, Store, connect
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.redis_server import RedisServer
from tests.fakes.slack_server import FakeSlack
from tests.test_replicas import (
    Replica,
    _env,
    _subscribe,
    _today_rows,
    _wait,
    replicas_in,
)

CHANNELS, PAPERS, REPLICAS = 40, 15, 3
World = tuple[dt.date, FakeArxiv, FakeSlack, RedisServer]


@pytest.fixture
async def scale(
    listings: dict[dt.date, list[dict[str, Any]]], request: pytest.FixtureRequest
) -> AsyncIterator[World]:
    day = latest_announcement(dt.datetime.now(dt.UTC))
    appendonly = getattr(request, "param", True)
    with RedisServer(appendonly=appendonly) as redis_server:
        async with (
            FakeArxiv({day: _today_rows(listings, day)}, today=day) as arxiv,
            FakeSlack() as slack,
        ):
            yield day, arxiv, slack, redis_server


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Replica]]:
    with replicas_in(tmp_path) as start:
        yield start


async def _subscribed(url: str) -> tuple[Store, list[str]]:
    store = await connect(url, prefix="test")
    return store, await _subscribe(store, CHANNELS, max_papers=PAPERS)


def _digest_posts(slack: FakeSlack) -> list[dict[str, Any]]:
    """Headers and entries (notices carry no delivery metadata)."""
    return [p for p in slack.posts() if (p.get("metadata") or {}).get("event_payload")]


def _assert_exactly_once(slack: FakeSlack) -> None:
    digests = _digest_posts(slack)
    headers = Counter(p["channel"] for p in digests if "thread_ts" not in p)
    assert len(headers) == CHANNELS and set(headers.values()) == {1}, headers
    entries = Counter((p["channel"], p["text"]) for p in digests if "thread_ts" in p)
    twice = {k: n for k, n in entries.items() if n > 1}
    assert not twice, twice
    per_channel = Counter(channel for channel, _ in entries)
    assert set(per_channel.values()) == {PAPERS}, per_channel  # none missing
    assert not [p for p in slack.posts() if "could not be built" in p["text"]]


async def _all_delivered(store: Store, channels: list[str], day: dt.date) -> bool:
    try:
        return all([await store.last_delivered(c) == day for c in channels])
    except Exception:  # Redis away, or not back yet
        return False


async def _stop(procs: list[Replica]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    codes = [p.wait(30) for p in procs]
    assert set(codes) <= {0, -signal.SIGKILL}, [p.log_tail() for p in procs]


@pytest.mark.parametrize("scale", [True, False], ids=["aof", "no-persistence"], indirect=True)
async def test_redis_restarted_mid_delivery_at_scale_posts_each_entry_once(
    scale: World, spawn: Callable[[dict[str, str]], Replica]
) -> None:
    """Leases of 3 s and a sweep every second (not the defaults): what is measured is what the
    restart costs, not how long a lease outlives it."""
    day, arxiv, slack, redis_server = scale
    store, channels = await _subscribed(redis_server.url)
    procs = [spawn(_env(redis_server.url, arxiv, slack)) for _ in range(REPLICAS)]
    try:
        total = CHANNELS * (1 + PAPERS)
        await _wait(lambda: _posted(slack, total // 4), 60)
        redis_server.kill()  # mid-delivery; with AOF, up to its last second is lost
        await asyncio.sleep(0.5)
        redis_server.start()
        back = asyncio.get_running_loop().time()
        if not redis_server.appendonly:  # an empty Redis: the channels set themselves up again
            with contextlib.suppress(*REDIS_ERRORS):  # the first call finds the old socket
                await store.r.ping()
            await _subscribe(store, CHANNELS, max_papers=PAPERS)
        await _wait(lambda: _all_delivered(store, channels, day), 60)
        took = asyncio.get_running_loop().time() - back
        assert took < 60
        print(f"all {CHANNELS} deliveries finished {took:.1f} s after Redis returned")
    finally:
        await _stop(procs)
        await store.close()
    _assert_exactly_once(slack)


async def _posted(slack: FakeSlack, n: int) -> bool:
    return len(slack.posts()) >= n


async def test_replica_killed_with_messages_in_flight_at_default_settings(
    scale: World, spawn: Callable[[dict[str, str]], Replica]
) -> None:
    """Default lease (15 s), sweep (300 s) and Slack pacing (1.1 s): only the takeover check
    can resume the dead replica's deliveries. Its messages in flight (carried out by Slack,
    never answered) are found in the channel, not posted again."""
    day, arxiv, slack, redis_server = scale
    store, channels = await _subscribed(redis_server.url)
    procs = [spawn(_defaults(_env(redis_server.url, arxiv, slack))) for _ in range(REPLICAS)]
    release = asyncio.Event()
    try:
        await _wait(lambda: _posted(slack, CHANNELS * 2), 60)
        for c in channels:  # each channel's next post is made and left unanswered
            slack.withhold_answer(c.split(":")[1], release)
        await _wait(lambda: _held(slack), 30)
        owner = (await store.get_delivery("slack:" + slack.in_flight[0], day))["owner"]
        victim = next(p for p in procs if owner.endswith(f":{p.pid}"))
        mine = [
            c
            for c in channels
            if c.split(":")[1] in slack.in_flight
            and (await store.get_delivery(c, day)).get("owner") == owner
        ]
        victim.kill()  # SIGKILL: its leases stay until they expire
        victim.wait(10)
        killed_at = asyncio.get_running_loop().time()
        release.set()  # the survivors' own posts are answered; the victim's never were
        await _wait(lambda: _all_delivered(store, channels, day), 60)
        took = asyncio.get_running_loop().time() - killed_at
        assert took < 60
        print(f"{len(mine)} channels with a message in flight resumed; all done {took:.1f} s after")
        assert mine
        survivors = {(await store.get_delivery(c, day)).get("owner") for c in mine}
        assert owner not in survivors
    finally:
        release.set()
        await _stop(procs)
        await store.close()
    _assert_exactly_once(slack)


def _defaults(env: dict[str, str]) -> dict[str, str]:
    """The test environment without its short lease, fast sweep and fast pacing."""
    tuned = {"JOB_LEASE_SECONDS", "SWEEP_SECONDS", "SLACK_MESSAGE_INTERVAL"}
    return {k: v for k, v in env.items() if k.removeprefix("ARXIV_BOT_") not in tuned}


async def _held(slack: FakeSlack) -> bool:
    """Every channel's post is in flight (or its delivery ended before it had another)."""
    return not slack.withheld and bool(slack.in_flight)
