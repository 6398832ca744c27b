"""Wiring and lifecycle: build every service from Settings once, close them in reverse."""

from __future__ import annotations

import datetime as dt
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from bot.ask.service import Asker
from bot.chat.commands import CommandHandler
from bot.chat.services import ChatServices
from bot.deliver import Poster
from bot.digest import DigestBuilder
from bot.explain.notes import MAX_EQUATIONS
from bot.explain.service import Explainer
from bot.explain.writer import NoteWriter
from bot.library import Library
from bot.schedule.jobs import DailyJobs
from bot.scoring.base import Scorer
from bot.scoring.claude import ClaudeScorer
from bot.scoring.local import LocalRanker
from bot.scoring.service import ScoringService
from bot.settings import Settings
from bot.sources import ArxivSource, BundledSource, Source
from bot.sources.http import PoliteFetcher
from bot.store import Store, connect
from bot.store.pacing import RedisPacer

__all__ = ["App", "open_app"]


@dataclass
class App:
    """The composition root's bundle: what open_app built, and the one place that hands each
    consumer the few services it uses (none of them takes the App itself)."""

    settings: Settings
    store: Store
    library: Library
    scorer: Scorer
    # Scoring through the Batches API at announcement time (schedule/prescore.py); None without
    # a key or with llm.prescore off.
    prescoring: ScoringService | None = None
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def close(self) -> None:
        await self.stack.aclose()

    async def __aenter__(self) -> App:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def explainer(
        self, *, max_input_tokens: int = 6000, max_equations: int = MAX_EQUATIONS
    ) -> Explainer:
        """Share the source's arXiv fetcher (one polite request rate per process) and the
        scorer's Claude client."""
        source, a = self.library.builder.source, self.settings.arxiv
        if isinstance(source, ArxivSource):
            fetcher = source.fetcher
        else:
            fetcher = PoliteFetcher(
                delay=a.delay_seconds,
                retries=a.retries,
                timeout=a.timeout_seconds,
                base_backoff=a.backoff_seconds,
            )
        return Explainer(
            self.store,
            self.library,
            arxiv=a,
            fetcher=fetcher,
            writer=self._writer(),
            retries=self.settings.llm.max_retries,
            max_input_tokens=max_input_tokens,
            max_equations=max_equations,
        )

    def _writer(self) -> NoteWriter | None:
        key = self.settings.anthropic_api_key
        if key is None or not key.get_secret_value():
            return None
        scorer = self.scorer
        if not isinstance(scorer, ClaudeScorer):
            scorer = ClaudeScorer(self.settings.llm, api_key=key.get_secret_value())
            self.stack.push_async_callback(scorer.close)
        return NoteWriter(scorer)

    def asker(self, explainer: Explainer | None = None) -> Asker:
        """Read papers with the chat's Explainer (one arXiv fetcher) and answer through its
        Claude client and pricing."""
        return Asker.reading_with(
            self.store,
            self.library,
            explainer or self.explainer(),
            abs_url=self.settings.arxiv.abs_url,
        )

    def commands(self, explainer: Explainer | None = None) -> CommandHandler:
        return CommandHandler(
            self.store, self.library, self.library.builder.scoring, explainer=explainer
        )

    def chat(self, handler: CommandHandler | None = None) -> ChatServices:
        """What a platform adapter uses; `handler` defaults to one without an Explainer."""
        handler = handler or self.commands()
        explainer = getattr(handler, "explainer", None)  # a test's stand-in handler has none
        return ChatServices(
            settings=self.settings,
            store=self.store,
            library=self.library,
            handler=handler,
            asker=self.asker(explainer),
        )

    def jobs(
        self,
        posters: dict[str, Poster],
        *,
        owner: str,
        **options: Any,
    ) -> DailyJobs:
        return DailyJobs(
            self.store,
            self.library,
            posters,
            owner=owner,
            prescoring=self.prescoring,
            catch_up_days=self.settings.catch_up_days,
            max_wait=dt.timedelta(hours=self.settings.arxiv.max_wait_hours),
            **options,
        )


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
    library = Library(store=store, builder=builder, settings=settings, fallbacks=fallbacks)
    return App(
        settings=settings,
        store=store,
        library=library,
        scorer=scorer,
        prescoring=prescoring,
        stack=stack,
    )
