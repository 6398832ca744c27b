"""The daily job's lease on its hot path: each posted message's record is one round trip that
checks and renews the lease (a Lua script; WATCH/MULTI in the in-process store), and a lease
kept while such records renew it makes no renewal round trips of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.errors import LeaseLost
from bot.store.base import Lease
from bot.store.store import Store, connect
from tests.fakes.redis_server import RedisServer

TTL_MS = 600  # keep renews when two thirds of it or less are left: after 200 ms


def _watches(server: RedisServer) -> int:
    stats = server.client().info("commandstats")
    return int(stats.get("cmdstat_watch", {}).get("calls", 0))


@pytest.fixture(params=["redis", "embedded"])
async def store(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Store]:
    store = await connect(redis_url if request.param == "redis" else None, prefix="t")
    yield store
    await store.close()


async def test_a_record_renews_a_held_lease_and_a_lost_one_writes_nothing(store: Store) -> None:
    token = await store.acquire("digest:x", ttl_ms=60_000)
    assert token is not None
    await store.record_progress(
        "x:d", "header-0", "C:1", lease=Lease("digest:x", token), renew_ms=90_000
    )
    assert await store.progress("x:d") == {"header-0": "C:1"}
    assert await store.r.pttl(store.keys.lock("digest:x")) > 60_000
    await store.r.delete(store.keys.lock("digest:x"))
    assert await store.acquire("digest:x", ttl_ms=60_000) is not None  # a survivor took it
    with pytest.raises(LeaseLost):
        await store.record_progress("x:d", "paper-1", "C:2", lease=Lease("digest:x", token))
    assert await store.progress("x:d") == {"header-0": "C:1"}


async def test_records_that_renew_the_lease_stand_in_for_the_background_renewal(
    redis_server: RedisServer, redis_url: str
) -> None:
    store = await connect(redis_url, prefix="t")
    async with store.lease("digest:y", ttl_ms=TTL_MS) as lease:
        assert lease is not None
        before = _watches(redis_server)
        for i in range(10):  # posting: a record every 100 ms, each renewing the lease
            await store.record_progress("y:d", f"paper-{i}", "C", lease=lease, renew_ms=TTL_MS)
            await asyncio.sleep(0.1)
        assert _watches(redis_server) == before  # no renewal of keep's own
        await asyncio.sleep(0.5)  # no records: keep renews by itself again
        assert _watches(redis_server) > before
        assert await store.leased("digest:y")
    await store.close()
