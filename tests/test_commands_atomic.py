"""Concurrent changes to one channel are all kept, and the audit log says exactly what was stored.

Against a real redis-server, with two Apps (two connection pools, as two replicas have).
"""

from __future__ import annotations

import asyncio
import itertools

from bot.app import open_app
from bot.chat.commands import Invocation
from bot.settings import Settings
from tests.conftest import MakeApp
from tests.fakes.redis_server import RedisServer

CID = "slack:C1"


async def test_50_concurrent_keyword_adds_keep_all_50_and_the_audit_chains(
    make_app: MakeApp,
) -> None:
    apps = [await make_app(offline=True), await make_app(offline=True)]
    handlers = [a.commands() for a in apps]
    replies = await asyncio.gather(
        *(
            handlers[i % 2].handle(Invocation(CID, f"U{i % 5}", f"keywords add kw{i}"))
            for i in range(50)
        )
    )
    assert not any(r.error for r in replies), [r.text for r in replies if r.error]
    config = await apps[0].store.get_channel(CID)
    assert config is not None
    stored = config.keywords
    assert {f"kw{i}" for i in range(50)} <= set(stored) and len(stored) == 53
    # Each confirmation names what was stored at that moment; all 50 audit entries chain.
    log = list(reversed(await apps[0].store.audit_log(CID, limit=100)))
    assert len(log) == 50
    for before, after in itertools.pairwise(log):
        assert after["old"] == before["new"]
    assert log[-1]["new"] == {"keywords": stored}
    assert all(f"kw{i}" in r.text for i, r in enumerate(replies))


async def test_two_admins_changing_different_settings_at_once_keep_both(make_app: MakeApp) -> None:
    a, b = await make_app(offline=True), await make_app(offline=True)
    ha, hb = a.commands(), b.commands()
    for i in range(20):
        cid = f"slack:P{i}"
        ra, rb = await asyncio.gather(
            ha.handle(Invocation(cid, "UA", f"threshold {1 + i % 10} 3")),
            hb.handle(Invocation(cid, "UB", f"max {i + 30}")),
        )
        assert not ra.error and not rb.error
        c = await a.store.get_channel(cid)
        assert c is not None
        assert (c.relevance_threshold, c.novelty_threshold, c.max_papers) == (1 + i % 10, 3, i + 30)
        log = await a.store.audit_log(cid)
        assert sorted(e["user"] for e in log) == ["UA", "UB"]


async def test_a_refused_change_stores_and_audits_nothing(make_app: MakeApp) -> None:
    app = await make_app(offline=True)
    handler = app.commands()
    reply = await handler.handle(Invocation(CID, "U1", "topic remove Astrology"))
    assert reply.error and "No topic named 'Astrology'" in reply.text
    assert await app.store.get_channel(CID) is None and await app.store.audit_log(CID) == []


async def test_the_in_process_store_is_atomic_too() -> None:
    """No REDIS_URL: fakeredis, which the CLI uses, runs the same WATCH/MULTI transaction."""
    async with await open_app(Settings(), offline=True) as app:
        assert app.store.embedded
        handler = app.commands()
        await asyncio.gather(
            *(handler.handle(Invocation(CID, "U", f"exclude add x{i}")) for i in range(20))
        )
        config = await app.store.get_channel(CID)
        assert config is not None and len(config.exclude_keywords) == 20


async def test_redis_gone_mid_command_gets_a_clear_reply(
    make_app: MakeApp, redis_server: RedisServer
) -> None:
    app = await make_app(offline=True)
    handler = app.commands()
    assert not (await handler.handle(Invocation(CID, "U1", "threshold 8"))).error
    redis_server.stop()
    try:
        for text in ("settings", "threshold 3", "keywords add x"):
            reply = await handler.handle(Invocation(CID, "U1", text))
            assert reply.error and "State store unavailable" in reply.text, reply.text
            assert "Error" not in reply.text and "6379" not in reply.text
    finally:
        redis_server.start()


async def test_a_change_that_changes_nothing_is_not_audited(make_app: MakeApp) -> None:
    app = await make_app(offline=True)
    handler = app.commands()
    for _ in range(3):
        assert not (await handler.handle(Invocation(CID, "U1", "threshold 8"))).error
    [entry] = await app.store.audit_log(CID)
    assert (entry["old"], entry["new"]) == ({"relevance_threshold": 6}, {"relevance_threshold": 8})
