"""Leases (one worker at a time, across replicas), claims (first replica wins), fixed-window counts,
stamps (a change every replica sees) and once-only notices. Names come from bot.store.keys; the prefixes are added here."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator

from bot.store import keys as K
from bot.store.base import REDIS_ERRORS, Concern, Lease, _s
from bot.tasks import watch

__all__ = ["Leases"]

log = logging.getLogger(__name__)

# How often a waiting `lease(wait=...)` tries again: a holder's release is seen within this.
_POLL_SECONDS = 0.2


class Leases(Concern):
    async def acquire(self, name: str, *, ttl_ms: int) -> str | None:
        """A lease: a token if we got it, None if someone else holds it."""
        token = uuid.uuid4().hex
        ok = await self.r.set(self.keys.lock(name), token, nx=True, px=ttl_ms)
        return token if ok else None

    async def leased(self, name: str) -> bool:
        """Whether anybody holds the lease `name` now."""
        return bool(await self.r.exists(self.keys.lock(name)))

    @contextlib.asynccontextmanager
    async def lease(
        self, name: str, *, ttl_ms: int, wait: float = 0.0
    ) -> AsyncIterator[Lease | None]:
        """Hold the lease `name` for the block: take it (trying for up to `wait` s while another
        holds it; math.inf waits as long as it takes), renew it while the block runs, release it
        after. Yields None when it was not free in time.

        Writes under the yielded Lease (set_delivery, record_progress, finish_delivery) raise
        LeaseLost once another replica holds it, so a worker that lost it writes nothing. A
        release that Redis cannot answer is only logged: the lease lapses by itself.
        """
        deadline = time.monotonic() + wait if math.isfinite(wait) else math.inf
        token = await self.acquire(name, ttl_ms=ttl_ms)
        while token is None and time.monotonic() < deadline:
            await asyncio.sleep(_POLL_SECONDS)
            token = await self.acquire(name, ttl_ms=ttl_ms)
        if token is None:
            yield None
            return
        try:
            async with self.keep(name, token, ttl_ms=ttl_ms):
                yield Lease(name, token)
        finally:
            try:
                await self.release(name, token)
            except REDIS_ERRORS:
                log.warning("could not release lease %s: Redis unreachable", name)

    @contextlib.asynccontextmanager
    async def keep(self, name: str, token: str, *, ttl_ms: int) -> AsyncIterator[None]:
        """Renew a held lease at a third of its life until the block ends; a write under it that
        renewed it (each posted message's record does) counts as a renewal, so a delivery that is
        posting makes no renewal round trips of its own.

        The renewer is stopped with an event, not by cancelling it mid-call: a cancellation
        landing inside a Redis call can be swallowed by the client, and the loop would go on.
        """
        stop = asyncio.Event()
        term = ttl_ms / 1000
        self.lapses[token] = time.monotonic() + term

        async def renew() -> None:
            while True:
                due = self.lapses.get(token, 0.0) - term * 2 / 3 - time.monotonic()
                if due > 0:
                    try:
                        await asyncio.wait_for(stop.wait(), due)
                        return
                    except TimeoutError:
                        continue
                started = time.monotonic()
                try:
                    if not await self.renew(name, token, ttl_ms=ttl_ms):
                        log.warning("lost lease %s", name)
                        return
                    self.lapses[token] = started + term
                except REDIS_ERRORS:
                    log.warning("could not renew lease %s: Redis unreachable", name)
                    self.lapses[token] = started + term  # try again a third of a term later

        task = watch(asyncio.create_task(renew(), name=f"lease:{name}"))
        try:
            yield
        finally:
            stop.set()
            _done, pending = await asyncio.wait({task}, timeout=5)
            for late in pending:
                late.cancel()
            self.lapses.pop(token, None)

    async def renew(self, name: str, token: str, *, ttl_ms: int) -> bool:
        return await self._if_owner(name, token, lambda pipe, key: pipe.pexpire(key, ttl_ms))

    async def release(self, name: str, token: str) -> bool:
        return await self._if_owner(name, token, lambda pipe, key: pipe.delete(key))

    async def claim(self, name: str, *, ttl: int) -> bool:
        """True for the first replica to claim `name` (an interaction, an event) within `ttl` s."""
        return bool(await self.r.set(self.keys.claim(name), "1", nx=True, ex=ttl))

    async def stamp(self, name: str, *, ttl: int) -> None:
        """Mark `name` as changed, for `ttl` s: a new value each time, so a replica that cached
        something about `name` under an older stamp (or none) knows to look again."""
        await self.r.set(self.keys.stamp(name), uuid.uuid4().hex, ex=ttl)

    async def stamp_of(self, name: str) -> str:
        """`name`'s latest stamp; '' when it was not changed within its stamp's ttl."""
        raw = await self.r.get(self.keys.stamp(name))
        return _s(raw) if raw else ""

    async def count(self, name: str, *, window: int) -> int:
        """How many times `name` was counted in the fixed window of `window` s now running,
        this time included (a rate limit shared by every replica)."""
        key = self.keys.count(name)
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, nx=True, ex=window)
            pipe.incr(key)
            _, hits = await pipe.execute()
        return int(hits)

    async def counted(self, name: str) -> tuple[int, int]:
        """How many times `name` was counted in its running window, and the seconds left of it
        (0, 0 when none runs); counts nothing: a rate limit read before the work it limits."""
        key = self.keys.count(name)
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.ttl(key)
            raw, ttl = await pipe.execute()
        return int(raw or 0), max(int(ttl), 0)

    async def once(self, key: str, *, ttl: int = K.DAY) -> bool:
        """True the first time `key` is claimed: used so an ops message is sent once, not a flood."""
        return bool(
            await self.r.set(self.keys.ops_notice(key, dt.date.today()), "1", nx=True, ex=ttl)
        )
