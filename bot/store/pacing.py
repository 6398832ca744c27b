"""One request per interval to each arXiv host across every replica, through Redis.

Each request first takes the host's pace key with SET NX PX (a plain command, so the in-process
store can do it too); whoever holds it waits out its remaining PTTL and tries again.
"""

from __future__ import annotations

import asyncio
import uuid

from bot.store.base import typed_errors
from bot.store.store import Store

__all__ = ["RedisPacer"]


class RedisPacer:
    def __init__(self, store: Store, interval: float) -> None:
        self.store = store
        self.interval_ms = max(1, round(interval * 1000))
        self.owner = uuid.uuid4().hex

    @typed_errors
    async def __call__(self, host: str) -> None:
        """Return when this replica may send the next request to `host`."""
        key = self.store.keys.pace(host)
        while not await self.store.r.set(key, self.owner, nx=True, px=self.interval_ms):
            left = await self.store.r.pttl(key)
            await asyncio.sleep(max(left, 1) / 1000)
