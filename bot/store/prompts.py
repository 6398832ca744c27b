"""Shared prompt prefixes: who marks a prefix for the model's prompt cache, and when."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from bot.store import keys as K
from bot.store.base import REDIS_ERRORS
from bot.store.leases import Leases

__all__ = ["Prompts"]


class Prompts(Leases):
    @contextlib.asynccontextmanager
    async def shared_prefix(
        self, prefix: str, user: str, *, wait: bool = True, timeout: float = 60.0
    ) -> AsyncIterator[bool]:
        """Whether a call should mark `prefix` for prompt caching, and its turn to make the call.

        Caching pays only when another user (criteria) reads the prefix too: a cache write costs
        1.25x and a read 0.1x an input token. The first user of the day's prefix therefore does not
        mark it; from the second on it is marked. The first marked call runs alone (a lease) and
        the others wait until it has succeeded, so that they read the cache instead of all writing
        it at once; with `wait=False` (batches) nobody waits. Not `lease()`: a waiter stops
        waiting as soon as the cache is warm, not when the lease is free.
        """
        users = self.keys.prompt_users(prefix)
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.sadd(users, user)
            pipe.expire(users, K.DAY)
            pipe.scard(users)
            *_, count = await pipe.execute()
        if count < 2:
            yield False
            return
        warm = self.keys.prompt_warm(prefix)
        lease = K.prompt_lease(prefix)
        token = None
        deadline = time.monotonic() + timeout
        while wait and not await self.r.exists(warm) and time.monotonic() < deadline:
            token = await self.acquire(lease, ttl_ms=int(timeout * 1000))
            if token:
                break
            await asyncio.sleep(0.2)
        try:
            yield True
            if token:
                await self.r.set(warm, "1", ex=K.PROMPT_WARM_TTL)
        finally:
            if token:
                with contextlib.suppress(*REDIS_ERRORS):
                    await self.release(lease, token)
