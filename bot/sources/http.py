"""Polite HTTP for arXiv: paced per host (across replicas when a Redis pacer is given), a
timeout per request (never one over many pages), retries with backoff, Retry-After honoured up
to a cap, and a User-Agent that says who is asking and how to reach them."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp

from bot.errors import ArxivUnavailable

__all__ = ["NotFound", "Pacer", "PoliteFetcher", "Sleep", "user_agent"]

log = logging.getLogger(__name__)

# Worth another try: arXiv answers 503 with Retry-After under load, and timeouts are common.
_TRANSIENT_STATUS = {429, 500, 502, 503, 504}

Pacer = Callable[[str], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class NotFound(Exception):
    """A 404: the resource does not exist (not retried)."""


def user_agent(contact: str) -> str:
    """arXiv asks API users to identify themselves; a contact lets them write before blocking."""
    return f"arxiv-bot/0.2 (daily arXiv digests for chat channels; {contact or 'no contact set'})"


class _LocalPacer:
    """One request per `delay` seconds per host, in this process (no Redis given)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._lock = asyncio.Lock()
        self._last: dict[str, float] = {}

    async def __call__(self, host: str) -> None:
        async with self._lock:
            wait = self._last.get(host, -1e9) + self.delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last[host] = time.monotonic()


class PoliteFetcher:
    def __init__(
        self,
        *,
        delay: float,
        retries: int,
        timeout: float,
        base_backoff: float = 1.0,
        retry_after_cap: float = 60.0,
        contact: str = "",
        pacer: Pacer | None = None,
        sleep: Sleep = asyncio.sleep,
    ):
        self.retries = retries
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.base_backoff = base_backoff
        self.retry_after_cap = retry_after_cap
        self.headers = {"User-Agent": user_agent(contact)}
        self.pacer: Pacer = pacer or _LocalPacer(delay)
        self.sleep = sleep
        self.requests = 0

    async def get_text(self, url: str) -> str:
        last_error = "no answer"
        host = urlsplit(url).netloc
        for attempt in range(self.retries + 1):
            await self.pacer(host)
            self.requests += 1
            retry_after = None
            try:
                async with (
                    aiohttp.ClientSession(timeout=self.timeout) as session,
                    session.get(url, headers=self.headers) as resp,
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
                raise ArxivUnavailable(f"Cannot resolve arXiv's host ({host}).") from e
            except TimeoutError:
                last_error = "no answer in time"
            except aiohttp.ClientConnectorError:
                last_error = "no connection"
            except aiohttp.ClientError as e:
                log.info("arXiv request broke: %r", e)
                last_error = "the connection broke"
            if attempt < self.retries:
                if retry_after is not None:
                    wait = min(retry_after, self.retry_after_cap)
                else:
                    wait = self.base_backoff * 2**attempt * (0.5 + random.random() / 2)
                log.info("arXiv request failed (%s), retry %d: %s", last_error, attempt + 1, url)
                await self.sleep(wait)
        raise ArxivUnavailable(
            f"arXiv did not answer ({last_error}) after {self.retries + 1} "
            f"{'try' if self.retries == 0 else 'tries'}."
        )


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
