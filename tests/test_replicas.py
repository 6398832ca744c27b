"""Real OS processes: `arxiv-bot run` replicas against one redis-server and the fake Slack API."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.schedule.calendar import latest_announcement
from bot.store import Store, connect
from tests.conftest import DAY
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.redis_server import free_port
from tests.fakes.slack_server import FakeSlack

BIN = str(Path(sys.executable).with_name("arxiv-bot"))
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Pacific/Auckland"]


def _today_rows(
    listings: dict[dt.date, list[dict[str, Any]]], day: dt.date
) -> list[dict[str, Any]]:
    """The recorded 2025-06-10 papers re-dated to `day`, with ids of that month (so they are new
    submissions of that day, not replacements)."""
    prefix = day.strftime("%y%m")
    return [dict(r, id=f"{prefix}.{r['id'].split('.')[1]}") for r in listings[DAY]]


@pytest.fixture
async def world(
    redis_url: str, listings: dict[dt.date, list[dict[str, Any]]]
) -> AsyncIterator[tuple[dt.date, FakeArxiv, FakeSlack, Store]]:
    day = latest_announcement(dt.datetime.now(dt.UTC))
    async with (
        FakeArxiv({day: _today_rows(listings, day)}, today=day) as arxiv,
        FakeSlack(latency=0.02) as slack,
    ):
        store = await connect(redis_url, prefix="test")
        yield day, arxiv, slack, store
        await store.close()


@contextlib.contextmanager
def replicas_in(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Replica]]:
    """Start `arxiv-bot run` replicas; whatever happens, none outlives the block. Their stderr
    goes to files (a pipe nobody reads fills up and blocks a replica's logging, and with it
    its event loop and its lease renewal)."""
    procs: list[Replica] = []

    def start(env: dict[str, str]) -> Replica:
        log = tmp_path / f"replica-{len(procs)}.log"
        with log.open("wb") as err:
            proc = Replica([BIN, "run"], env=env, stdout=subprocess.DEVNULL, stderr=err)
        proc.log = log
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], Replica]]:
    with replicas_in(tmp_path) as start:
        yield start


class Replica(subprocess.Popen[bytes]):
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _env(redis_url: str, arxiv: FakeArxiv, slack: FakeSlack, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ARXIV_BOT_", "SLACK_", "DISCORD_", "ANTHROPIC_"))
    }
    env.update(
        {
            "REDIS_URL": redis_url,
            "ARXIV_BOT_KEY_PREFIX": "test",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "secret",
            "ARXIV_BOT_SLACK_API_URL": slack.base_url + "/api/",
            "ARXIV_BOT_SLACK_PORT": str(free_port()),
            "ARXIV_BOT_HEALTH_PORT": str(free_port()),
            "ARXIV_BOT_ARXIV__RSS_URL": arxiv.base_url + "/rss",
            "ARXIV_BOT_ARXIV__API_URL": arxiv.base_url + "/api/query",
            "ARXIV_BOT_ARXIV__LIST_URL": arxiv.base_url + "/list",
            "ARXIV_BOT_ARXIV__DELAY_SECONDS": "0",
            "ARXIV_BOT_JOB_LEASE_SECONDS": "3",
            "ARXIV_BOT_SWEEP_SECONDS": "1",
            "ARXIV_BOT_DRAIN_SECONDS": "5",
            "ARXIV_BOT_SLACK_MESSAGE_INTERVAL": "0.01",
            **extra,
        }
    )
    return env


async def _subscribe(store: Store, n: int, **update: Any) -> list[str]:
    from bot.models import ChannelConfig
    from bot.settings import ChannelDefaults

    # Due now in every zone: the channel's clock passed its schedule time after the announcement
    # (two minutes ago, unless arXiv announced within the last two minutes).
    ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
    ids = []
    for i in range(n):
        zone = ZONES[i % len(ZONES)]
        fields = {
            "subscribed": True,
            "schedule_time": ago.astimezone(ZoneInfo(zone)).strftime("%H:%M"),
            "timezone": zone,
            "max_papers": 2,
            "topics": ChannelDefaults().topics,
            **update,
        }
        config = ChannelConfig(id=f"slack:C{i:03d}", **fields)
        await store.save_channel(config)
        ids.append(config.id)
    return ids


async def _wait(predicate: Callable[[], Awaitable[bool]], timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.2)


async def _wait_progressing(
    done: Callable[[], Awaitable[bool]], progress: Callable[[], int], *, stall: float = 30
) -> None:
    """Wait until `done`, for as long as `progress` keeps growing: a loaded machine makes the
    replicas slow, not wrong; only `stall` seconds without any progress fail the test."""
    loop = asyncio.get_running_loop()
    last, since = progress(), loop.time()
    while not await done():
        if (now := progress()) != last:
            last, since = now, loop.time()
        elif loop.time() - since > stall:
            raise AssertionError(f"no progress for {stall} s (at {last})")
        await asyncio.sleep(0.2)


def _lease_for_load() -> int:
    """3 s on an idle machine, longer in proportion to the load per core: a lease shorter than
    the replicas' event-loop lag moves deliveries between live replicas (see _takeovers)."""
    per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return math.ceil(3 * max(1.0, per_core))


def _takeovers(procs: list[Replica]) -> int:
    """Leases lost by a live replica (its renewal starved past the lease): each one moves a
    delivery to another replica, which reads the channel back before going on."""
    return sum(p.log.read_text(errors="replace").count("lost the lease of") for p in procs)


async def test_three_replicas_deliver_50_channels_exactly_once_and_stop_cleanly(
    world: tuple[dt.date, FakeArxiv, FakeSlack, Store],
    redis_url: str,
    spawn: Callable[[dict[str, str]], Replica],
) -> None:
    day, arxiv, slack, store = world
    channels = await _subscribe(store, 50)
    # The default lease: under heavy load a replica's loop can lag past a 3 s lease, and the
    # deliveries then move between replicas before their first message (see _takeovers).
    envs = [_env(redis_url, arxiv, slack, ARXIV_BOT_JOB_LEASE_SECONDS="15") for _ in range(3)]
    procs = [spawn(env) for env in envs]
    try:

        async def all_delivered() -> bool:
            return all([await store.last_delivered(c) == day for c in channels])

        await _wait_progressing(all_delivered, lambda: len(slack.posts()), stall=60)
        async with aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{envs[0]['ARXIV_BOT_HEALTH_PORT']}"
            async with http.get(base + "/healthz") as r:
                assert r.status == 200
            async with http.get(base + "/readyz") as r:
                assert r.status == 200 and (await r.json())["redis"] is True
            async with http.get(base + "/metrics") as r:
                assert "arxivbot_job_seconds" in await r.text()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        codes = [p.wait(30) for p in procs]
    assert codes == [0, 0, 0], [p.log_tail() for p in procs]
    print(f"{_takeovers(procs)} leases lost to another replica")
    headers = Counter(p["channel"] for p in slack.posts() if "thread_ts" not in p)
    assert len(headers) == 50 and set(headers.values()) == {1}
    entries = Counter((p["channel"], p["text"]) for p in slack.posts() if "thread_ts" in p)
    assert len(entries) == 100 and set(entries.values()) == {1}
    assert not [k async for k in store.r.scan_iter(match="test:lock:digest:*")]  # leases released


async def test_replica_killed_mid_post_is_taken_over_without_a_duplicate_header(
    world: tuple[dt.date, FakeArxiv, FakeSlack, Store],
    redis_url: str,
    spawn: Callable[[dict[str, str]], Replica],
) -> None:
    day, arxiv, slack, store = world
    slack.latency = 0.25
    [channel] = await _subscribe(store, 1, max_papers=12)
    first = spawn(_env(redis_url, arxiv, slack))

    async def some_posted() -> bool:
        return len(await store.delivery_progress(channel, day)) >= 3

    await _wait(some_posted, 60)
    first.kill()  # SIGKILL: no cleanup, the lease stays until it expires
    first.wait(10)
    assert (await store.get_delivery(channel, day))["state"] == "posting"
    second = spawn(_env(redis_url, arxiv, slack))
    try:

        async def delivered() -> bool:
            return await store.last_delivered(channel) == day

        await _wait(delivered, 60)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0, second.log_tail()
    posts = slack.posts("C000")
    assert sum(1 for p in posts if "thread_ts" not in p) == 1
    entries = Counter(p["text"] for p in posts if "thread_ts" in p)
    assert len(entries) == 12 and set(entries.values()) == {1}  # not even the one in flight
    assert (await store.get_delivery(channel, day))["state"] == "posted"


async def test_a_killed_replicas_channels_resume_on_survivors_within_seconds(
    world: tuple[dt.date, FakeArxiv, FakeSlack, Store],
    redis_url: str,
    spawn: Callable[[dict[str, str]], Replica],
) -> None:
    """No full sweep for 5 minutes: only the takeover check (a third of the lease) can resume
    the dead replica's deliveries. At the default lease of 15 s that is about 20 s (tested in
    tests/test_scale.py); here 3 s, or longer on a loaded machine."""
    day, arxiv, slack, store = world
    slack.latency = 0.1
    channels = await _subscribe(store, 18, max_papers=3)
    lease = _lease_for_load()
    env = {"ARXIV_BOT_SWEEP_SECONDS": "300", "ARXIV_BOT_JOB_LEASE_SECONDS": str(lease)}
    procs = [spawn(_env(redis_url, arxiv, slack, **env)) for _ in range(3)]
    release = asyncio.Event()  # each channel's next post is made and left unanswered
    try:

        async def some_posted() -> bool:
            return len(slack.posts()) >= 12

        await _wait_progressing(some_posted, lambda: len(slack.posts()), stall=60)
        for c in channels:
            slack.withhold_answer(c.split(":")[1], release)

        async def in_flight() -> bool:
            return bool(slack.in_flight)

        await _wait(in_flight, 30)
        # The replica with a delivery under way (on a loaded machine one replica may start
        # seconds before the others and take every lease).
        owner = (await store.get_delivery("slack:" + slack.in_flight[0], day))["owner"]
        victim = next(p for p in procs if owner.endswith(f":{p.pid}"))
        # Its channels still to deliver (on a loaded machine it may have finished some already).
        mine = [
            c
            for c in channels
            if (await store.get_delivery(c, day)).get("owner") == owner
            and await store.last_delivered(c) != day
        ]
        victim.kill()
        victim.wait(10)
        killed_at = asyncio.get_running_loop().time()
        release.set()

        async def all_delivered() -> bool:
            return all([await store.last_delivered(c) == day for c in channels])

        await _wait(all_delivered, 60)
        took = asyncio.get_running_loop().time() - killed_at
        assert took < 60
        print(
            f"lease {lease} s: {len(mine)} channels resumed, all done {took:.1f} s after the kill"
        )
    finally:
        release.set()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = [p.wait(30) for p in procs]
    assert sorted(codes) == [-signal.SIGKILL, 0, 0], [p.log_tail() for p in procs]
    digests = [p for p in slack.posts() if (p.get("metadata") or {}).get("event_payload")]
    headers = Counter(p["channel"] for p in digests if "thread_ts" not in p)
    assert len(headers) == 18 and set(headers.values()) == {1}
    entries = Counter((p["channel"], p["text"]) for p in digests if "thread_ts" in p)
    assert len(entries) == 54 and set(entries.values()) == {1}
    assert not [p for p in slack.posts() if "could not be built" in p["text"]]  # not late
    resumed_by = {(await store.get_delivery(c, day)).get("owner") for c in mine}
    assert owner not in resumed_by  # on survivors
