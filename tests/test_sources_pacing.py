"""One request per interval to each arXiv host across replicas: the limiter lives in Redis."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.store import connect
from bot.store.pacing import RedisPacer


async def test_replicas_share_one_pace_per_host(redis_url: str) -> None:
    stores = [await connect(redis_url, prefix="test") for _ in range(3)]
    try:
        pacers = [RedisPacer(s, interval=0.15) for s in stores]  # 3 s in production
        turns: list[tuple[str, float]] = []

        async def call(pacer: RedisPacer, host: str) -> None:
            await pacer(host)
            turns.append((host, time.monotonic()))

        started = time.monotonic()
        await asyncio.gather(
            *(call(p, "export.arxiv.org") for p in pacers for _ in range(2)),
            call(pacers[0], "rss.arxiv.org"),
        )
        api = sorted(t for host, t in turns if host == "export.arxiv.org")
        assert len(api) == 6
        assert all(b - a >= 0.14 for a, b in itertools.pairwise(api))
        # Another host is not held up by the first one's queue.
        rss = next(t for host, t in turns if host == "rss.arxiv.org")
        assert rss - started < 0.1
    finally:
        for s in stores:
            await s.close()
