"""Polite HTTP for arXiv: one request per `delay` seconds per process, retries with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import time

import aiohttp

from bot.errors import ArxivUnavailable

__all__ = ["NotFound", "PoliteFetcher"]

log = logging.getLogger(__name__)

# Worth another try: arXiv answers 503 with Retry-After under load, and timeouts are common.
_TRANSIENT_STATUS = {429, 500, 502, 503, 504}


class NotFound(Exception):
    """A 404: the resource does not exist (not retried)."""


class PoliteFetcher:
    def __init__(self, *, delay: float, retries: int, timeout: float, base_backoff: float = 1.0):
        self.delay = delay
        self.retries = retries
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.base_backoff = base_backoff
        self._lock = asyncio.Lock()
        self._last = 0.0

    async def _wait_turn(self) -> None:
        async with self._lock:
            wait = self._last + self.delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last = time.monotonic()

    async def get_text(self, url: str) -> str:
        last_error = "no answer"
        for attempt in range(self.retries + 1):
            await self._wait_turn()
            try:
                async with (
                    aiohttp.ClientSession(timeout=self.timeout) as session,
                    session.get(url, headers={"User-Agent": "arxiv-bot/0.1"}) as resp,
                ):
                    if resp.status == 404:
                        raise NotFound(url)
                    if resp.status == 200:
                        return await resp.text()
                    last_error = f"HTTP {resp.status}"
                    retry_after = _retry_after(resp.headers.get("Retry-After"))
                    if resp.status not in _TRANSIENT_STATUS:
                        break
            except aiohttp.ClientConnectorDNSError as e:
                # No name resolution means no network: retrying cannot help, say so at once.
                raise ArxivUnavailable(f"Cannot resolve arXiv's host ({url.split('/')[2]}).") from e
            except (TimeoutError, aiohttp.ClientError) as e:
                last_error = type(e).__name__
                retry_after = None
            if attempt < self.retries:
                backoff = retry_after if retry_after is not None else self.base_backoff * 2**attempt
                await asyncio.sleep(backoff * (0.5 + random.random() / 2))
                log.info("arXiv request failed (%s), retry %d: %s", last_error, attempt + 1, url)
        raise ArxivUnavailable(
            f"arXiv did not answer ({last_error}) after {self.retries + 1} "
            f"{'try' if self.retries == 0 else 'tries'}."
        )


def _retry_after(value: str | None) -> float | None:
    try:
        return min(float(value), 60.0) if value is not None else None
    except ValueError:
        return None
