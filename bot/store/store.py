"""Redis access for every piece of state; callers never build keys or touch redis directly.

`Store` is the composition of the concerns (papers, scores, channels, deliveries, leases, prompt
prefixes, ledger, messages, feedback, notes), each a small class over the shared client and keys
with a Protocol in bot.store.protocols; what spans concerns (export and import of channels) is
here.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterable
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.driver_info import DriverInfo

from bot.errors import StoreUnavailable
from bot.models import ChannelConfig, Paper
from bot.store import keys as K
from bot.store.base import REDIS_ERRORS, Lease, StoreDown, _s
from bot.store.channels import Channels
from bot.store.deliveries import Deliveries
from bot.store.feedback import Feedback
from bot.store.ledger import Ledger
from bot.store.messages import Messages, PaperMessage
from bot.store.notes import Notes
from bot.store.papers import Papers
from bot.store.prompts import Prompts
from bot.store.scores import Scores

__all__ = ["REDIS_ERRORS", "Lease", "PaperMessage", "Store", "StoreDown", "connect"]

# Commands answer people: on a stalled Redis they say so after this, not after the jobs' 3 s.
INTERACTIVE_TIMEOUT = 1.0
# Connections opened at start-up per pool: about a burst of concurrent commands (50 users at
# once open ~49) and of channel jobs starting together.
WARM_INTERACTIVE = 48
WARM_JOBS = 16
_DRIVER = DriverInfo()


class Store(Papers, Scores, Channels, Deliveries, Prompts, Ledger, Messages, Feedback, Notes):
    def __init__(self, client: redis.Redis, *, prefix: str = "arxivbot:v1", embedded: bool = False):
        super().__init__(client, K.Keys(prefix))
        self.embedded = embedded
        self._interactive: Store | None = None

    @property
    def interactive(self) -> Store:
        """The same store for paths that answer a person (commands): Redis calls give up after
        INTERACTIVE_TIMEOUT, so a stall costs the asker a second, not the daily job's patience."""
        return self._interactive or self

    def _over(self, client: redis.Redis) -> Store:
        """This store on another client, sharing its keys and its cache of parsed papers."""
        view = copy.copy(self)
        view.r, view._interactive = client, None
        return view

    async def close(self) -> None:
        if self._interactive is not None:
            await self._interactive.r.aclose()
        await self.r.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self.r.ping())
        except REDIS_ERRORS:
            return False

    async def export_channels(self, extra: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
        """Every channel's (and `extra` channels') config, audit log, watches, votes and the
        voted papers, as JSON-able data: how the CLI keeps channel settings in a file between
        runs without Redis."""
        out: dict[str, dict[str, Any]] = {}
        for cid in sorted({*await self.channel_ids(), *extra}):
            raw = await self.r.get(self.keys.channel(cid))
            audit = await self.r.lrange(self.keys.audit(cid), 0, -1)
            votes = await self.r.hgetall(self.keys.reactions(cid))
            fields = {_s(k): int(v) for k, v in votes.items()}
            voted = sorted({f.split("|", 1)[0] for f in fields})
            out[cid] = {
                "config": json.loads(raw) if raw else None,
                "audit": [json.loads(e) for e in audit],
                "watches": await self.watches(cid),
                "votes": fields,
                "papers": [p.model_dump(mode="json") for p in await self.get_papers(voted)],
            }
        return out

    async def import_channels(self, data: dict[str, dict[str, Any]]) -> None:
        """The inverse of export_channels, into an empty store."""
        papers = [
            Paper.model_validate(p) for state in data.values() for p in state.get("papers", [])
        ]
        await self.put_papers(papers)
        pipe = self.r.pipeline(transaction=True)
        for cid, state in data.items():
            if state.get("config") is not None:
                self._put_channel(
                    pipe, ChannelConfig.model_validate({**state["config"], "id": cid})
                )
            else:
                pipe.sadd(self.keys.channels(), cid)
            for entry in state.get("audit", [])[: K.AUDIT_MAX]:
                pipe.rpush(self.keys.audit(cid), json.dumps(entry))
            if state.get("watches"):
                pipe.hset(self.keys.watches(cid), mapping=dict(state["watches"]))
            if state.get("votes"):
                pipe.hset(self.keys.reactions(cid), mapping=dict(state["votes"]))
        await pipe.execute()


async def connect(url: str | None, *, prefix: str) -> Store:
    """A Store on `url`, or an in-process fakeredis when no URL is configured."""
    if not url:
        import fakeredis

        return Store(fakeredis.FakeAsyncRedis(), prefix=prefix, embedded=True)
    # A blocking pool: at the day's peak, hundreds of channel jobs wait for a connection instead
    # of failing with "too many connections" (redis-py's default pool raises at its cap).
    # Short: a job's call waits at most 3 s on a stalled Redis before saying so.
    client = _client(url, connections=64, wait=30, timeout=3, connect=5)
    store = Store(client, prefix=prefix)
    # Its own pool, so that commands never queue behind the jobs' connections either.
    quick = INTERACTIVE_TIMEOUT
    interactive = _client(url, connections=64, wait=quick, timeout=quick, connect=quick)
    store._interactive = store._over(interactive)
    try:
        await client.ping()
        await asyncio.gather(_warm(client, WARM_JOBS), _warm(interactive, WARM_INTERACTIVE))
    except REDIS_ERRORS as e:
        await store.close()
        raise StoreUnavailable(f"Cannot reach Redis at {_redact(url)}.") from e
    return store


async def _warm(client: redis.Redis, n: int) -> None:
    """Open `n` of the pool's connections now: a burst of commands (the first acks, a day's
    channels starting at once) then finds them open instead of paying set-up on its path.
    Best effort: Redis answered the ping, so a connection that does not open in time (a busy
    machine, the interactive pool's 1 s) is opened later on demand, not a failed start-up."""
    pool = client.connection_pool
    opened = await asyncio.gather(
        *(pool.get_connection() for _ in range(n)), return_exceptions=True
    )
    for connection in opened:
        if not isinstance(connection, BaseException):
            await pool.release(connection)


def _client(
    url: str, *, connections: int, wait: float, timeout: float, connect: float
) -> redis.Redis:
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=connections,
        timeout=wait,
        socket_timeout=timeout,
        socket_connect_timeout=connect,
        health_check_interval=30,
        # A restart closes every pooled connection: the first command on each would fail once
        # ("try again shortly" to an admin, a job's step lost). Reconnect and send it again, once,
        # on a closed connection only; a timeout (a stalled Redis) is not retried, so a command
        # still answers within its timeout. A watched transaction is not re-sent: redis-py raises
        # WatchError for it instead, and our transactions then run again from their reads.
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        # Looked up once: by default every new connection reads redis-py's version from the
        # package metadata (~3 ms each, most of a connection's set-up).
        driver_info=_DRIVER,
    )
    return redis.Redis.from_pool(pool)


def _redact(url: str) -> str:
    """Hide a password in redis://user:pass@host."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
