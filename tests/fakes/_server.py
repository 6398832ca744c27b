"""The lifecycle every fake shares: an aiohttp app on 127.0.0.1 at a free port, `async with`."""

from __future__ import annotations

from typing import Any, Self

from aiohttp import web


class LocalServer:
    base_url: str = ""
    _runner: web.AppRunner | None = None
    runner_options: dict[str, Any] = {}

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
