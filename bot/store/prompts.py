"""Shared prompt prefixes: who marks a prefix for the model's prompt cache, and when."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from redis.exceptions import WatchError

from bot.store import keys as K
from bot.store.base import REDIS_ERRORS, _s
from bot.store.leases import Leases

__all__ = ["Prompts"]

# Users of a shared prefix from which another is expected (see `Prompts.shared_prefix`).
_LIKELY_READ = 3
_DECIDE_TRIES = 10


class Prompts(Leases):
    async def prefix_reader(self, prefix: str, user: str) -> None:
        """Count `user` as a reader to come of `prefix`, before it decides on any call with it:
        `shared_prefix` marks a prefix only for readers still to come."""
        users = self.keys.prompt_users(prefix)
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.sadd(users, user)
            pipe.expire(users, K.DAY)
            await pipe.execute()

    async def _decide(self, users: str, decided: str, marked: str, user: str) -> bool:
        """`user` decides whether to mark, and marks, in one transaction (WATCH, retried when
        another user decided meanwhile): a decision to mark is never seen half made, so a user
        deciding at the same moment reads the cache it writes instead of leaving it unread."""
        for _ in range(_DECIDE_TRIES):
            async with self.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(users, decided, marked)
                    pending = {_s(m) for m in await pipe.sdiff([users, decided])} - {user}
                    was_marked = await pipe.exists(marked)
                    seen = len({_s(m) for m in await pipe.smembers(users)} | {user})
                    mark = bool(pending or was_marked or seen >= _LIKELY_READ)
                    pipe.multi()
                    pipe.sadd(users, user)
                    pipe.expire(users, K.DAY)
                    pipe.sadd(decided, user)
                    pipe.expire(decided, K.DAY)
                    if mark:
                        pipe.set(marked, "1", ex=K.PROMPT_WARM_TTL)
                    await pipe.execute()
                    return mark
                except WatchError:
                    continue
        return False

    @contextlib.asynccontextmanager
    async def shared_prefix(
        self, prefix: str, user: str, *, wait: bool = True, timeout: float = 60.0
    ) -> AsyncIterator[bool]:
        """Whether a call should mark `prefix` for prompt caching, and its turn to make the call.

        Caching pays only when what is written is read: a cache write costs 1.25x and a read 0.1x
        an input token. So a call marks the prefix when another user marked it lately (it reads
        that) or when a user counted by `prefix_reader` has not decided yet (it will read this):
        never for the last user to come, so two users one after the other pay no premium. From
        `_LIKELY_READ` users of the prefix today on, it is marked anyway: more are likely to come
        (a read saves 0.9x, the write costs 0.25x), and on a busy morning some register late. The
        first marked call runs alone (a lease) and the others wait until it has succeeded, so
        that they read the cache instead of all writing it at once; with `wait=False` (batches)
        nobody waits. Not `lease()`: a waiter stops waiting as soon as the cache is warm, not
        when the lease is free.
        """
        users = self.keys.prompt_users(prefix)
        decided = self.keys.prompt_users(f"{prefix}:decided")
        marked = self.keys.prompt_warm(f"{prefix}:marked")
        if not await self._decide(users, decided, marked, user):
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
