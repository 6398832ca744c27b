"""Wiring and lifecycle: build every service from Settings once, close them in reverse."""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

from bot.digest import DigestBuilder
from bot.errors import ArxivUnavailable, PaperNotFound
from bot.models import ChannelConfig, Digest, Listing, Paper
from bot.scoring.base import Scorer
from bot.scoring.claude import ClaudeScorer
from bot.scoring.local import LocalRanker
from bot.scoring.service import ScoringService
from bot.settings import Settings
from bot.sources import ArxivSource, BundledSource, Source
from bot.sources.bundled import find_bundled
from bot.store import Store, connect
from bot.store.pacing import RedisPacer

__all__ = ["App", "open_app"]

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    store: Store
    source: Source
    scorer: Scorer
    builder: DigestBuilder
    # Scoring through the Batches API at announcement time (schedule/prescore.py); None without
    # a key or with llm.prescore off.
    prescoring: ScoringService | None = None
    fallbacks: list[str] = field(default_factory=list)
    bundled_fallback: bool = False  # the CLI demo may fall back to bundled data; the bot may not
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def close(self) -> None:
        await self.stack.aclose()

    async def __aenter__(self) -> App:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

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
            if not self.bundled_fallback or isinstance(self.source, BundledSource):
                raise
            # Said once, in the CLI's one "Using: ..." line, with the first sentence of the reason.
            log.info("arXiv unreachable (%s); using the bundled snapshot", e)
            reason = str(e).split(". ", 1)[0].rstrip(".")
            self.fallbacks.append(f"arXiv unreachable ({reason}) → bundled real arXiv data")
            self.source = self.builder.source = BundledSource()
            return await self.builder.listing(day, categories)

    async def lookup(self, paper_id: str) -> Paper:
        """One paper by versionless id: the store, then arXiv's API, then the bundled snapshot."""
        paper = await self.store.get_paper(paper_id)
        if paper is None and isinstance(self.source, ArxivSource):
            found = await self.source.api.lookup([paper_id])
            paper = found[0] if found else None
        if paper is None:
            paper = find_bundled(paper_id)
        if paper is None:
            raise PaperNotFound(paper_id)
        await self.store.put_papers([paper])
        return paper

    async def digest(self, channel: ChannelConfig, *, day: dt.date | None = None) -> Digest:
        listing = await self.listing(day, channel.categories)
        return await self.builder.build(channel, listing=listing)


async def open_app(settings: Settings, *, offline: bool = False) -> App:
    """Connect what is configured; fall back to embedded pieces for what is not, and say so."""
    fallbacks = []
    store = await connect(settings.redis_url, prefix=settings.key_prefix)
    if store.embedded:
        fallbacks.append("no REDIS_URL → in-process store")
    stack = AsyncExitStack()
    stack.push_async_callback(store.close)
    scorer: Scorer
    prescoring = None
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else ""
    if key:
        claude = ClaudeScorer(settings.llm, api_key=key)
        stack.push_async_callback(claude.close)
        scorer = claude
        if settings.llm.prescore:
            batches = ClaudeScorer(
                settings.llm.model_copy(update={"use_batches_api": True}), api_key=key
            )
            stack.push_async_callback(batches.close)
            prescoring = ScoringService(
                store,
                batches,
                prefilter_min=settings.llm.prefilter_min_relevance,
                lease="prescoring",
            )
    else:
        scorer = LocalRanker()
        fallbacks.append("no ANTHROPIC_API_KEY → local ranker")
    source: Source
    if offline:
        source = BundledSource()
        fallbacks.append("offline → bundled real arXiv data")
    else:
        # One request per 3 s to each arXiv host across every replica sharing this Redis.
        pace = settings.arxiv.delay_seconds
        source = ArxivSource(settings.arxiv, pacer=RedisPacer(store, pace) if pace > 0 else None)
    scoring = ScoringService(
        store, scorer, prefilter_min=settings.llm.prefilter_min_relevance if key else 0
    )
    builder = DigestBuilder(source=source, store=store, scoring=scoring)
    return App(
        settings=settings,
        store=store,
        source=source,
        scorer=scorer,
        builder=builder,
        prescoring=prescoring,
        fallbacks=fallbacks,
        stack=stack,
    )
