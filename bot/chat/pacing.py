"""One pacer per channel for every message the bot posts there.

Digests, explain notes, watch mentions and thread replies all wait their turn in the same
per-channel queue, so a note asked for during a digest is spaced like the digest's own messages
instead of colliding with them in the platform's per-channel rate limit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

__all__ = ["ChannelPacer"]


class ChannelPacer:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._locks: dict[str, asyncio.Lock] = {}
        self._next: dict[str, float] = {}

    @contextlib.asynccontextmanager
    async def turn(self, channel: str) -> AsyncIterator[None]:
        """Hold the channel's turn for one message: first come, first served, and `interval`
        after the previous message's answer (so a slow answer does not shorten the next gap)."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        loop = asyncio.get_running_loop()
        async with lock:
            wait = self._next.get(channel, 0.0) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._next[channel] = loop.time() + self.interval
