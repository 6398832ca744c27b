"""What commands, jobs, explain and ask read: channels with the deployment's defaults, the day's
listing (the CLI's bundled fallback included) and one paper by id.

Built once by the composition root (bot/app.py) and handed to each consumer, so that none of
them needs the whole App to reach the store, the source or the digest builder through it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace

from bot.digest import DigestBuilder
from bot.errors import ArxivUnavailable, PaperNotFound
from bot.models import ChannelConfig, Criteria, Digest, Listing, Paper
from bot.scoring.service import ScoringService
from bot.settings import Settings
from bot.sources import ArxivSource, BundledSource
from bot.sources.bundled import find_bundled
from bot.store import Store

__all__ = ["Library"]

log = logging.getLogger(__name__)


@dataclass
class Library:
    store: Store
    builder: DigestBuilder
    settings: Settings
    bundled_fallback: bool = False  # the CLI demo may fall back to bundled data; the bot may not
    # What was used instead of what is not configured, said once in the CLI's "Using: ..." line.
    fallbacks: list[str] = field(default_factory=list)

    def interactive(self) -> Library:
        """The same, on the store's short-timeout connection: someone waits for the answer."""
        return replace(self, store=self.store.interactive)

    def default_channel(self, channel_id: str) -> ChannelConfig:
        d = self.settings.defaults
        return ChannelConfig(
            id=channel_id,
            topics=d.topics,
            keywords=d.keywords,
            categories=d.categories,
            relevance_threshold=d.relevance_threshold,
            max_papers=d.max_papers,
            schedule_time=d.schedule_time,
            timezone=d.timezone,
            budget_usd=d.budget_usd,
            include_replacements=self.settings.include_replacements,
        )

    async def channel(self, channel_id: str) -> ChannelConfig:
        return await self.store.get_channel(channel_id) or self.default_channel(channel_id)

    async def listing(self, day: dt.date | None, categories: list[str]) -> Listing:
        """The listing, falling back to the bundled snapshot when arXiv cannot be reached."""
        try:
            return await self.builder.listing(day, categories)
        except ArxivUnavailable as e:
            if not self.bundled_fallback or isinstance(self.builder.source, BundledSource):
                raise
            # Said once, in the CLI's one "Using: ..." line, with the first sentence of the reason.
            log.info("arXiv unreachable (%s); using the bundled snapshot", e)
            reason = str(e).split(". ", 1)[0].rstrip(".")
            self.fallbacks.append(f"arXiv unreachable ({reason}) → bundled real arXiv data")
            self.builder.source = BundledSource()
            return await self.builder.listing(day, categories)

    async def lookup(self, paper_id: str) -> Paper:
        """One paper by versionless id: the store, then arXiv's API, then the bundled snapshot."""
        paper = await self.store.get_paper(paper_id)
        source = self.builder.source
        if paper is None and isinstance(source, ArxivSource):
            found = await source.api.lookup([paper_id])
            paper = found[0] if found else None
        if paper is None:
            paper = find_bundled(paper_id)
        if paper is None:
            raise PaperNotFound(paper_id)
        await self.store.put_papers([paper])
        return paper

    async def digest(
        self, channel: ChannelConfig, *, day: dt.date | None = None, alone: bool = False
    ) -> Digest:
        """`alone`: someone waits for it (`digest now`): its scoring waits for no other set."""
        listing = await self.listing(day, channel.categories)
        return await self.builder.build(channel, listing=listing, alone=alone)

    @property
    def scoring(self) -> ScoringService:
        """The interactive scoring (and its local ranker) the digests use."""
        return self.builder.scoring

    async def build(
        self, channel: ChannelConfig, listing: Listing, *, alone: bool = False
    ) -> Digest:
        return await self.builder.build(channel, listing=listing, alone=alone)

    async def criteria(self, channel: ChannelConfig, day: dt.date | None) -> Criteria:
        return await self.builder.criteria(channel, day)

    async def budget_left(self, channel: ChannelConfig) -> float:
        return await self.builder.budget_left(channel)
