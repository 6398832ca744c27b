"""Where papers come from: arXiv (by announcement day, confirmed; see arxiv.py) or the bundled
snapshot. Every source answers `listing(day, categories) -> Listing`."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from bot.models import Listing
from bot.sources.arxiv import ArxivSource
from bot.sources.bundled import BundledSource, JsonlSource

__all__ = ["ArxivSource", "BundledSource", "JsonlSource", "Source"]


class Source(Protocol):
    name: str

    async def listing(self, day: dt.date | None, categories: list[str]) -> Listing: ...
