"""The lifecycle every fake shares: an aiohttp app on 127.0.0.1 at a free port, `async with`."""

from __future__ import annotations

import time
from typing import Any, ClassVar, Self

from aiohttp import web


class LocalServer:
    base_url: str = ""
    _runner: web.AppRunner | None = None
    runner_options: ClassVar[dict[str, Any]] = {}

    def build_app(self) -> web.Application:
        """The routes of this fake."""
        raise NotImplementedError

    async def start(self) -> str:
        self._runner = web.AppRunner(self.build_app(), access_log=None, **self.runner_options)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, shutdown_timeout=1.0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class FixedWindow:
    """Per-channel fixed-window rate limit, as Slack's and Discord's message limits behave."""

    def __init__(self) -> None:
        self.windows: dict[str, tuple[float, int]] = {}  # channel -> (window start, count)

    def take(self, channel: str, rate: float) -> tuple[int, int, float, bool]:
        """Count one message: (limit, used, seconds until the window resets, over the limit)."""
        limit = max(1, round(rate))
        window = limit / rate
        now = time.monotonic()
        start, count = self.windows.get(channel, (now, 0))
        if now - start >= window:
            start, count = now, 0
        reset_after = max(0.001, window - (now - start))
        over = count >= limit
        if not over:
            count += 1
            self.windows[channel] = (start, count)
        return limit, count, reset_after, over
