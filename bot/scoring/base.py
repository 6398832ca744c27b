"""The seam between the pipeline and whatever scores papers."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from bot.models import Criteria, Paper, Score, Usage

__all__ = ["Scorer", "ScoringResult", "Sink"]


class Sink(Protocol):
    """Where a scorer reports as it goes, so a crash mid-run loses neither spend nor scores."""

    async def usage(self, usage: Usage) -> None: ...

    async def scores(self, scores: list[Score]) -> None: ...

    def shared_prefix(self, key: str, *, wait: bool = True) -> AbstractAsyncContextManager[bool]:
        """Whether to mark a prompt prefix other criteria share for caching; the first marked
        call runs alone so the others read what it wrote."""
        ...


@dataclass
class ScoringResult:
    scores: dict[str, Score] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    unscored: list[str] = field(default_factory=list)
    fallback: set[str] = field(default_factory=set)
    reasons: dict[str, int] = field(default_factory=dict)
    reserved: float = 0.0  # dollars of calls under way, counted against the budget
    sink: Sink | None = None

    async def add_usage(self, usage: Usage) -> None:
        self.usage += usage
        if self.sink is not None:
            await self.sink.usage(usage)

    async def add_scores(self, scores: dict[str, Score]) -> None:
        """Scores the model gave (not fallbacks): kept, and reported to the sink at once."""
        self.scores.update(scores)
        if self.sink is not None and scores:
            await self.sink.scores(list(scores.values()))

    def fell_back(self, why: str, count: int) -> None:
        """Count papers per fallback reason, so the digest says it once, with a total."""
        self.reasons[why] = self.reasons.get(why, 0) + count

    @property
    def notes(self) -> list[str]:
        return [
            f"{why}: {n} papers ranked by the local ranker instead."
            for why, n in self.reasons.items()
        ]


class Scorer(Protocol):
    name: str
    prompt_version: str  # with the criteria hash, the key of the shared score cache

    async def score(
        self,
        papers: list[Paper],
        criteria: Criteria,
        *,
        listing: list[Paper] | None = None,
        budget_usd: float | None = None,
        sink: Sink | None = None,
    ) -> ScoringResult: ...
