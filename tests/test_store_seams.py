"""The store's seams: each concern provides its Protocol, Redis failures leave every concern as
StoreDown, nothing outside bot/store builds key names, the lease context manager renews, releases
and loses leases as the jobs rely on, and commands give up on a stalled Redis within a second
while the daily job's calls wait out a longer stall. Against a real redis-server."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import functools
import inspect
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.chat.commands import Invocation
from bot.errors import LeaseLost
from bot.store import connect, protocols
from bot.store.base import Concern, StoreDown
from bot.store.channels import Channels
from bot.store.deliveries import Deliveries
from bot.store.feedback import Feedback
from bot.store.keys import Keys
from bot.store.leases import Leases
from bot.store.ledger import Ledger
from bot.store.messages import Messages
from bot.store.notes import Notes
from bot.store.papers import Papers
from bot.store.prompts import Prompts
from bot.store.scores import Scores
from bot.store.store import Store
from tests.fakes.redis_server import RedisServer, free_port
from tests.test_reliability_commands import UNAVAILABLE, own_redis  # noqa: F401  (a fixture)

SEAMS: list[tuple[type[Concern], Any]] = [
    (Papers, protocols.PaperStore),
    (Scores, protocols.ScoreStore),
    (Channels, protocols.ChannelStore),
    (Deliveries, protocols.DeliveryStore),
    (Leases, protocols.LeaseStore),
    (Prompts, protocols.PromptStore),
    (Ledger, protocols.LedgerStore),
    (Messages, protocols.MessageStore),
    (Feedback, protocols.FeedbackStore),
    (Notes, protocols.NoteStore),
]
BOT = Path(__file__).resolve().parent.parent / "bot"
# Methods whose first argument is a key name the store prefixes (lease, claim, count, notice).
# Any string or f-string passed to them outside bot/store is a name built by hand.
NAMED = {"acquire", "leased", "lease", "keep", "renew", "release", "claim", "count", "once"}
# Prefixes only Redis names use ('digest:' and 'weekly:' also name the scheduler's own jobs).
PREFIXES = (
    "digest-now:",
    "fetch:",
    "prompt:",
    "prescore:",
    "slack-request:",
    "slack-mention:",
    "discord-interaction:",
    "discord-explain:",
    "discord-mention:",
    "lock:",
    "claim:",
)


def _members(proto: Any) -> list[str]:
    return [n for n in vars(proto) if not n.startswith("_") and callable(getattr(proto, n))]


@pytest.mark.parametrize(("concern", "proto"), SEAMS, ids=lambda v: getattr(v, "__name__", ""))
async def test_each_concern_provides_its_protocol_with_the_same_signatures(
    redis_url: str, concern: type[Concern], proto: Any
) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert isinstance(concern(client, Keys("test")), proto)
        for name in _members(proto):
            ours = inspect.signature(getattr(concern, name))
            promised = inspect.signature(getattr(proto, name))
            assert list(ours.parameters) == list(promised.parameters), (concern, name)
            kinds = [p.kind for p in ours.parameters.values()]
            assert kinds == [p.kind for p in promised.parameters.values()], (concern, name)
    finally:
        await client.aclose()


async def test_the_store_is_every_concern_and_each_coroutine_raises_store_down() -> None:
    # Nothing listens there; no retries, so each call fails at once.
    dead = redis.Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))
    store = Store(dead, prefix="test")
    assert all(isinstance(store, proto) for _, proto in SEAMS)
    public = [
        m
        for concern, _ in SEAMS
        for n, m in vars(concern).items()
        if inspect.iscoroutinefunction(m) and not n.startswith("_")
    ]
    assert len(public) > 40 and all(hasattr(m, "__wrapped__") for m in public)
    day = dt.date(2025, 6, 2)
    calls = [
        store.get_paper("2506.00001"),
        store.get_scores("claude", "h", ["2506.00001"]),
        store.channel_ids(),
        store.last_delivered("slack:C1"),
        store.acquire("x", ttl_ms=1000),
        store.usage("slack:C1", day),
        store.message_paper("slack", "1.2"),
        store.watches("slack:C1"),
        store.get_note("2506.00001", 1, "m"),
        store.export_channels(),
    ]
    for call in calls:
        with pytest.raises(StoreDown, match="State store unavailable"):
            await call
    await dead.aclose()


@functools.cache
def _outside_store(*needles: str) -> list[tuple[str, ast.Module]]:
    """The modules of bot/ outside bot/store that mention one of `needles`, parsed."""
    texts = [(p, p.read_text()) for p in sorted(BOT.rglob("*.py")) if p.parent != BOT / "store"]
    return [
        (str(path.relative_to(BOT)), ast.parse(text))
        for path, text in texts
        if any(n in text for n in needles)
    ]


def _built(node: ast.expr, scope: ast.AST) -> bool:
    """Whether `node` is a name spelled out here: a literal, an f-string or a concatenation,
    directly or through a variable assigned one in the same function."""
    if isinstance(node, (ast.JoinedStr, ast.Constant, ast.BinOp)):
        return True
    if isinstance(node, ast.Name):
        return any(
            isinstance(a, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == node.id for t in a.targets)
            and isinstance(a.value, (ast.JoinedStr, ast.Constant, ast.BinOp))
            for a in ast.walk(scope)
        )
    return False


def _calls_building_names() -> list[str]:
    found = []
    for where, tree in _outside_store("store"):
        for scope in ast.walk(tree):
            if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(scope):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                named = node.func.attr in NAMED and "store" in ast.unparse(node.func.value)
                if named and node.args and _built(node.args[0], scope):
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node.args[0])}")
    return found


def _key_strings() -> list[str]:
    found = []
    for where, tree in _outside_store(*PREFIXES, ":late", ":failed"):
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and node.values:
                head, tail = node.values[0], node.values[-1]
                text = head.value if isinstance(head, ast.Constant) else ""
                end = tail.value if isinstance(tail, ast.Constant) else ""
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = end = node.value
            else:
                continue
            if str(text).startswith(PREFIXES) or end in (":late", ":failed"):
                found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_outside_the_store_builds_key_names() -> None:
    assert _calls_building_names() == []
    assert _key_strings() == []


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[Store]:
    store = await connect(redis_url, prefix="test")
    yield store
    await store.close()


async def test_a_lease_is_renewed_while_held_and_released_after(store: Store) -> None:
    day = dt.date(2025, 6, 2)
    async with store.lease("digest:slack:C1:2025-06-02", ttl_ms=300) as lease:
        assert lease is not None
        await asyncio.sleep(1.0)  # three lives of the lease: only renewal keeps it
        assert await store.leased(lease.name)
        await store.set_delivery("slack:C1", day, lease=lease, state="posting")
        async with store.lease(lease.name, ttl_ms=300) as other:
            assert other is None  # held: nobody else gets it
    assert not await store.leased(lease.name)
    assert (await store.get_delivery("slack:C1", day))["state"] == "posting"


async def test_a_waiting_lease_gets_it_when_the_holder_releases_and_gives_up_in_time(
    store: Store,
) -> None:
    order: list[str] = []

    async def holder() -> None:
        async with store.lease("fetch:x", ttl_ms=5000) as lease:
            assert lease is not None
            order.append("held")
            await asyncio.sleep(0.5)
        order.append("released")

    task = asyncio.create_task(holder())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    async with store.lease("fetch:x", ttl_ms=5000, wait=0.2) as late:
        assert late is None and time.monotonic() - started < 0.6
    async with store.lease("fetch:x", ttl_ms=5000, wait=math.inf) as waited:
        assert waited is not None and order == ["held", "released"]
    await task


async def test_writes_under_a_lost_lease_raise_lease_lost_and_change_nothing(store: Store) -> None:
    day = dt.date(2025, 6, 2)
    name = "digest:slack:C2:2025-06-02"
    async with store.lease(name, ttl_ms=300) as lease:
        assert lease is not None
        await store.r.set(store.keys.lock(name), "another-replica", px=10_000)
        with pytest.raises(LeaseLost):
            await store.set_delivery("slack:C2", day, lease=lease, state="posted")
        with pytest.raises(LeaseLost):
            await store.record_progress("slack:C2:2025-06-02", "m0", "1.1", lease=lease)
        await asyncio.sleep(0.3)  # the renewer finds it lost and stops; it renews nothing more
    # Our release did not take the new owner's lease either.
    assert _text(await store.r.get(store.keys.lock(name))) == "another-replica"
    assert await store.get_delivery("slack:C2", day) == {}
    assert await store.progress("slack:C2:2025-06-02") == {}


def _text(raw: bytes | str | None) -> str:
    if isinstance(raw, str):
        return raw
    return raw.decode() if raw else ""


async def test_a_command_says_the_store_is_unavailable_within_a_second_and_a_half_while_jobs_wait(
    make_app: Any,
    own_redis: RedisServer,  # noqa: F811
) -> None:
    app = await make_app(redis_url=own_redis.url)
    handler = app.commands()
    inv = Invocation("slack:C1", "U1", "settings")
    assert not (await handler.handle(inv)).error
    own_redis.pause()
    resume = asyncio.get_running_loop().call_later(2.0, own_redis.resume)
    try:
        started = time.monotonic()
        reply = await handler.handle(inv)
        answered = time.monotonic() - started
        # The daily job's store, on the same stalled Redis: waits for it (up to 3 s) and answers.
        config = await app.store.get_channel("slack:C1")
        waited = time.monotonic() - started
    finally:
        resume.cancel()
        own_redis.resume()
    assert reply.error and reply.text == UNAVAILABLE
    assert answered < 1.5, answered
    assert config is None and 1.5 < waited < 3.5, waited
    assert not (await handler.handle(inv)).error  # and commands work again once it is back
