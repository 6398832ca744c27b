"""Where papers come from: arXiv (RSS for today, the API for other days and lookups) or the
bundled snapshot. Every source answers `listing(day, categories) -> Listing`."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from bot.models import Listing
from bot.settings import ArxivSettings
from bot.sources.api import ArxivApi
from bot.sources.bundled import BundledSource, JsonlSource
from bot.sources.http import PoliteFetcher
from bot.sources.rss import parse_rss

__all__ = ["ArxivSource", "BundledSource", "JsonlSource", "Source"]


class Source(Protocol):
    name: str

    async def listing(self, day: dt.date | None, categories: list[str]) -> Listing: ...


class ArxivSource:
    """Live arXiv: the RSS feed for the latest announcement, the API to backfill a past day."""

    name = "arxiv"

    def __init__(self, settings: ArxivSettings) -> None:
        self.settings = settings
        self.fetcher = PoliteFetcher(
            delay=settings.delay_seconds,
            retries=settings.retries,
            timeout=settings.timeout_seconds,
            base_backoff=settings.backoff_seconds,
        )
        self.api = ArxivApi(
            url=settings.api_url,
            delay=settings.delay_seconds,
            retries=settings.retries,
            timeout=settings.timeout_seconds,
        )

    async def latest(self, categories: list[str]) -> Listing:
        url = f"{self.settings.rss_url.rstrip('/')}/{'+'.join(categories)}"
        return parse_rss(await self.fetcher.get_text(url), categories)

    async def listing(self, day: dt.date | None, categories: list[str]) -> Listing:
        if day is None:
            return await self.latest(categories)
        latest = await self.latest(categories)
        if latest.day == day:
            return latest
        return await self.api.day(day, categories)
