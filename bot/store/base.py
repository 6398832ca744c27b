"""What every concern of the store shares: one Redis client, the key layout, and the rule that a
Redis failure leaves the store as one typed error (StoreDown) with a sentence for people."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, NamedTuple, ParamSpec, TypeVar

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import WatchError

from bot.errors import LeaseLost, StoreUnavailable
from bot.store import keys as K

__all__ = ["REDIS_ERRORS", "Concern", "Lease", "StoreDown", "typed_errors"]

# redis-py wraps socket errors in these; anything else is not Redis being away.
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)
_WATCH_TRIES = 5

P = ParamSpec("P")
T = TypeVar("T")


class StoreDown(StoreUnavailable, RedisConnectionError):
    """Redis did not answer. One typed error at the store's boundary, with a sentence for people;
    also a redis ConnectionError, so code that retries on Redis being away still sees one."""

    hint = ""

    def __init__(self) -> None:
        super().__init__("State store unavailable, try again shortly.")


class Lease(NamedTuple):
    """A held lease: what every write of the work it guards must show."""

    name: str
    token: str


def typed_errors(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """`method`, raising StoreDown where Redis fails (a redis ConnectionError or timeout)."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except StoreDown:
            raise
        except REDIS_ERRORS as e:
            raise StoreDown() from e

    return call


class Concern:
    """One concern of the store over the shared client and keys.

    Every public coroutine a subclass defines is wrapped so that Redis failures leave it as
    StoreDown: callers handle one error, whichever concern they use.
    """

    embedded = False  # an in-process fakeredis: no Lua (no lupa), WATCH/MULTI only

    def __init__(self, client: redis.Redis, keys: K.Keys) -> None:
        self.r = client
        self.keys = keys
        # Kept lease token -> time.monotonic() until which it runs at least, from its latest
        # renewal by `keep` or by a write under it that renewed it (record_progress): `keep`
        # renews only when two thirds of a term or less are left.
        self.lapses: dict[str, float] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, method in list(vars(cls).items()):
            if inspect.iscoroutinefunction(method) and not name.startswith("_") and name != "close":
                setattr(cls, name, typed_errors(method))

    async def _under(self, lease: Lease, write: Any) -> None:
        """`write(pipe)` in one MULTI, only if `lease` is still held by its token."""
        if not await self._if_owner(lease.name, lease.token, lambda pipe, _key: write(pipe)):
            raise LeaseLost(f"Lease {lease.name} is no longer held by this replica.")

    async def _if_owner(self, name: str, token: str, action: Any) -> bool:
        """Compare-and-act with WATCH/MULTI (no Lua, so the in-process store can do it too):
        only the holder of the lease token may renew or release it, or write under it. A
        transaction aborted by a change of the key (our own renewal) is tried again."""
        key = self.keys.lock(name)
        for _ in range(_WATCH_TRIES):
            async with self.r.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(key)
                    if _s(await pipe.get(key) or b"") != token:
                        await pipe.unwatch()
                        return False
                    pipe.multi()
                    action(pipe, key)
                    await pipe.execute()
                    return True
                except WatchError:
                    continue
        return False


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _members(response: Iterable[object]) -> list[str]:
    """The members of a sorted-set range read without scores (redis-py 8 types every range as if
    it might hold (member, score) pairs)."""
    return [_s(m) for m in response if isinstance(m, (bytes, str))]
