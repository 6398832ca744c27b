"""The seam between the pipeline and whatever scores papers."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from bot.models import Criteria, Paper, Score, Usage

__all__ = ["Failure", "Scorer", "ScoringResult", "Sink", "status_line"]


class Failure(StrEnum):
    """Why papers went to the local ranker, worded as the digest's opening line says it."""

    REFUSED = "Claude refused"
    NO_TOOL = "Claude answered without scores"
    UNREPAIRABLE = "Claude gave answers that could not be repaired"
    TIMED_OUT = "Claude timed out"
    RATE_LIMITED = "Claude was rate-limited"
    OVERLOADED = "Claude was overloaded"
    UNREACHABLE = "Claude could not be reached"
    API_ERROR = "Claude failed"
    BUDGET = "The daily budget ran out"


def status_line(failures: dict[Failure, int], total: int) -> str:
    """One sentence: what failed, for how many papers, and that those are ranked locally."""
    if not failures:
        return ""
    claude = [
        f"{kind.value.removeprefix('Claude ')} for {n}"
        for kind, n in failures.items()
        if kind is not Failure.BUDGET
    ]
    parts = [f"Claude {' and '.join(claude)}"] if claude else []
    if Failure.BUDGET in failures:
        parts.append(
            f"{Failure.BUDGET.value[0].lower()}{Failure.BUDGET.value[1:]} for "
            f"{failures[Failure.BUDGET]}"
        )
    text = "; ".join(parts)
    return f"{text[0].upper()}{text[1:]} of {total} papers; those are ranked by the local ranker."


class Sink(Protocol):
    """Where a scorer reports as it goes, so a crash mid-run loses neither spend nor scores."""

    async def usage(self, usage: Usage) -> None: ...

    async def scores(self, scores: list[Score]) -> None: ...

    async def reader(self, key: str) -> None:
        """Count this run as a reader to come of a shared prompt prefix, before any call."""
        ...

    def shared_prefix(self, key: str, *, wait: bool = True) -> AbstractAsyncContextManager[bool]:
        """Whether to mark a prompt prefix other criteria share for caching (only when a reader
        is to come, or one marked it: a write nobody reads costs 1.25x for nothing); the first
        marked call runs alone so the others read what it wrote."""
        ...


@dataclass
class ScoringResult:
    scores: dict[str, Score] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    fallback: set[str] = field(default_factory=set)
    failures: dict[Failure, int] = field(default_factory=dict)
    from_cache: int = 0  # scores another run made meanwhile, served from the shared cache
    splits: int = 0  # refused batches halved so far
    budget_usd: float | None = None  # what this run may spend (None: no limit)
    reserved: float = 0.0  # dollars of calls under way, counted against the budget
    sink: Sink | None = None
    # Loop time by which all of this run's calls must be done (inf: no deadline).
    deadline: float = float("inf")
    # Set when the API itself failed after its retries: the calls not yet made are not made.
    tripped: Failure | None = None

    def time_left(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    async def add_usage(self, usage: Usage) -> None:
        self.usage += usage
        if self.sink is not None:
            await self.sink.usage(usage)

    async def add_scores(self, scores: dict[str, Score]) -> None:
        """Scores the model gave (not fallbacks): kept, and reported to the sink at once."""
        self.scores.update(scores)
        if self.sink is not None and scores:
            await self.sink.scores(list(scores.values()))

    def fell_back(self, why: Failure, count: int) -> None:
        """Count papers per failure, so the digest says it once, with a total."""
        self.failures[why] = self.failures.get(why, 0) + count


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
        alone: bool = False,
    ) -> ScoringResult:
        """`alone`: someone waits for this answer (`score ID`, `digest now`): the call waits for
        no other set of interests to share it, which would add their gathering windows to it."""
        ...

    async def comment(
        self,
        papers: list[Paper],
        criteria: Criteria,
        *,
        budget_usd: float | None = None,
        sink: Sink | None = None,
        alone: bool = False,
    ) -> tuple[dict[str, str], Usage]:
        """A one-sentence comment per paper (those it could write), and what writing them cost;
        `alone` as for score."""
        ...
