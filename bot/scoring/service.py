"""Cheap before dear: pre-filter locally, reuse cached scores, ask the scorer for the rest once.

Scores are cached per (scorer, criteria hash) and shared by every channel and replica with the same
criteria; a short lease per (scorer, criteria, day) makes concurrent channels wait for one scoring
run instead of paying twice. Spend is booked on the day it is spent.

Paper text can be instructions to the model, in any wording: bot/scoring/guard.py says which
Claude scores are suspect and what they become once scored again alone (that call is in the
ledger like any other).
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from bot.errors import ArxivBotError
from bot.models import Criteria, Paper, Score, ScoredPaper, Usage
from bot.scoring import guard
from bot.scoring.base import Failure, Scorer, ScoringResult, Sink
from bot.scoring.claude import ClaudeScorer
from bot.scoring.local import LocalRanker, followed_authors
from bot.scoring.memo import LastUsed, papers_key
from bot.store import Store
from bot.store.keys import comment_lease, scoring_lease

__all__ = ["Scored", "ScoringService"]

log = logging.getLogger(__name__)

# Short and renewed while scoring, so a crashed scorer's lease lapses quickly.
_SCORING_LEASE_MS = 30 * 1000
# How long a channel waits for another replica's scoring of the same criteria before giving up
# (the job then fails once, says so, and the sweep retries).
_WAIT_SECONDS = 20 * 60


class ScoringBusy(ArxivBotError):
    hint = "It will be retried automatically."


@dataclass
class Scored:
    """The scores of one listing for one channel, with the counts the digest shows."""

    scanned: list[Paper] = field(default_factory=list)
    scores: dict[str, Score] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    failures: dict[Failure, int] = field(default_factory=dict)
    cached: int = 0  # Claude's scores served from the shared cache (paid for by an earlier run)
    flagged: int = 0


class ScoringService:
    def __init__(
        self, store: Store, scorer: Scorer, *, prefilter_min: int = 0, lease: str = "scoring"
    ) -> None:
        self.store = store
        self.scorer = scorer
        self.lease = lease
        self.local = LocalRanker()
        self.prefilter_min = prefilter_min
        # The day's local ranks per (criteria, papers): every channel with the same interests
        # reads the same listing, and ranking it is most of a digest's CPU. Distinct (interests,
        # listing) pairs of a day of a large deployment.
        self._ranks: LastUsed[tuple[str, tuple[str, ...]], dict[str, Score]] = LastUsed(64)

    def _local(self, papers: list[Paper], criteria: Criteria) -> dict[str, Score]:
        return self._ranks.get(
            (criteria.digest(), papers_key(papers)),
            lambda: {s.paper_id: s for s in self.local.rank(papers, criteria)},
        )

    async def score(
        self,
        papers: list[Paper],
        criteria: Criteria,
        *,
        day: dt.date | None,
        channel_id: str,
        budget_usd: float | None = None,
        comment: bool = False,
        alone: bool = False,
    ) -> Scored:
        """`comment`: also write the comments the scores lack, for `score ID` (a digest asks
        only for the papers it posts, through `comment`). `alone`: someone waits for the answer
        (`score ID`, `digest now`), so the calls wait for no other set to share them."""
        out = Scored()
        local = self._local(papers, criteria)
        for paper in papers:
            keep = local[paper.id].relevance >= self.prefilter_min and not local[
                paper.id
            ].comment.startswith("Dropped")
            if keep or followed_authors(paper, criteria.authors):
                out.scanned.append(paper)
        if self.scorer.name == self.local.name:
            out.scores = {p.id: local[p.id] for p in out.scanned}
            return out
        chash = self._cache_key(criteria)
        ids = [p.id for p in out.scanned]
        cached = await self.store.get_scores(self.scorer.name, chash, ids)
        out.cached = len(cached)
        missing = [p for p in out.scanned if p.id not in cached]
        result = ScoringResult()
        if missing:
            sink = _StoreSink(self.store, self.scorer.name, chash, channel_id, dt.date.today())
            result = await self._score_once(
                missing, papers, criteria, chash, day, budget_usd, sink, alone=alone
            )
            out.cached += result.from_cache
            cached.update(result.scores)
            out.usage = result.usage
            out.failures = result.failures
        out.scores = {p.id: cached[p.id] for p in out.scanned}
        await self._guard(out, local, criteria, chash, channel_id, budget_usd, result)
        if need := [p for p in out.scanned if comment and not out.scores[p.id].comment]:
            budget = None if budget_usd is None else budget_usd - out.usage.cost_usd
            comments, usage = await self._comments(need, criteria, channel_id, budget, alone=alone)
            out.usage += usage
            for p in need:
                out.scores[p.id] = out.scores[p.id].model_copy(update={"comment": comments[p.id]})
        return out

    async def _guard(
        self,
        out: Scored,
        local: dict[str, Score],
        criteria: Criteria,
        chash: str,
        channel_id: str,
        budget: float | None,
        run: ScoringResult,
    ) -> None:
        """Suspect scores are scored again alone (re-scores are cached apart, so a paper is
        re-scored once per criteria) and become what guard.verdict says."""
        suspects = [p for p in out.scanned if guard.suspect(p, out.scores[p.id], local[p.id])]
        if not suspects:
            return
        name = self.scorer.name + guard.GUARD_SUFFIX
        again = await self.store.get_scores(name, chash, [p.id for p in suspects])
        todo = [p for p in suspects if p.id not in again]
        if todo and isinstance(self.scorer, ClaudeScorer) and run.tripped is None:
            left = None if budget is None else budget - out.usage.cost_usd
            sink = _StoreSink(self.store, name, chash, channel_id, dt.date.today())
            deadline = run.deadline if run.deadline != float("inf") else None
            result = await self.scorer.rescore(
                todo, criteria, budget_usd=left, sink=sink, deadline=deadline
            )
            again.update(result.scores)
            out.usage += result.usage
        plain = [guard.redacted(p, criteria) for p in suspects]
        redacted_local = {s.paper_id: s for s in self.local.rank(plain, criteria)}
        for paper in suspects:
            out.scores[paper.id] = guard.verdict(
                paper, out.scores[paper.id], redacted_local[paper.id], again.get(paper.id)
            )
        out.flagged = len(suspects)

    def _cache_key(self, criteria: Criteria) -> str:
        """Scores are shared by everyone with these criteria, under this prompt."""
        version = self.scorer.prompt_version
        return f"{criteria.digest()}-p{version}" if version else criteria.digest()

    async def cached(self, criteria: Criteria, ids: list[str]) -> dict[str, Score]:
        """The scores already made for these papers under these criteria (none for the local
        ranker, which is cheap enough to run again)."""
        if self.scorer.name == self.local.name:
            return {}
        return await self.store.get_scores(self.scorer.name, self._cache_key(criteria), ids)

    async def _score_once(
        self,
        papers: list[Paper],
        listing: list[Paper],
        criteria: Criteria,
        chash: str,
        day: dt.date | None,
        budget: float | None,
        sink: Sink,
        *,
        alone: bool = False,
    ) -> ScoringResult:
        name = scoring_lease(self.lease, self.scorer.name, chash, day)
        # Another channel or replica scoring these criteria is waited for, then its scores taken.
        # The holder renews its short lease; if it dies the lease lapses within seconds.
        async with self.store.lease(name, ttl_ms=_SCORING_LEASE_MS, wait=_WAIT_SECONDS) as lease:
            if lease is None:
                raise ScoringBusy("Another replica is still scoring these papers.")
            return await self._score_missing(
                papers, listing, criteria, chash, budget, sink, alone=alone
            )

    async def comment(
        self,
        chosen: list[ScoredPaper],
        criteria: Criteria,
        *,
        channel_id: str,
        budget_usd: float | None = None,
        alone: bool = False,
    ) -> tuple[list[ScoredPaper], Usage]:
        """The papers a channel posts, each with its one-sentence comment, and what writing the
        missing ones cost. Scoring writes numbers only; comments are written here, once per
        criteria and paper (cached with the score), for the few papers someone will read."""
        need = [s.paper for s in chosen if not s.score.comment]
        if not need:
            return chosen, Usage()
        comments, usage = await self._comments(need, criteria, channel_id, budget_usd, alone=alone)
        return [
            s
            if s.score.comment
            else s.model_copy(
                update={"score": s.score.model_copy(update={"comment": comments[s.paper.id]})}
            )
            for s in chosen
        ], usage

    async def _comments(
        self,
        papers: list[Paper],
        criteria: Criteria,
        channel_id: str,
        budget: float | None,
        *,
        alone: bool = False,
    ) -> tuple[dict[str, str], Usage]:
        """Comments by paper id for every one of `papers`: from the score cache (another channel
        with these criteria wrote them), from the scorer, or else the local ranker's."""
        chash = self._cache_key(criteria)
        ids = [p.id for p in papers]
        usage = Usage()
        name = comment_lease(self.lease, self.scorer.name, chash)
        async with self.store.lease(name, ttl_ms=_SCORING_LEASE_MS, wait=_WAIT_SECONDS) as lease:
            if lease is None:
                raise ScoringBusy("Another replica is still writing these comments.")
            cached = await self.store.get_scores(self.scorer.name, chash, ids)
            comments = {i: s.comment for i, s in cached.items() if s.comment}
            todo = [p for p in papers if p.id not in comments]
            if todo:
                sink = _StoreSink(self.store, self.scorer.name, chash, channel_id, dt.date.today())
                written, usage = await self.scorer.comment(
                    todo, criteria, budget_usd=budget, sink=sink, alone=alone
                )
                await self.store.put_scores(
                    self.scorer.name,
                    chash,
                    [
                        cached[i].model_copy(update={"comment": c})
                        for i, c in written.items()
                        if i in cached
                    ],
                )
                comments.update(written)
        missing = [p for p in papers if p.id not in comments]
        comments.update({s.paper_id: s.comment for s in self.local.rank(missing, criteria)})
        return comments, usage

    async def _score_missing(
        self,
        papers: list[Paper],
        listing: list[Paper],
        criteria: Criteria,
        chash: str,
        budget: float | None,
        sink: Sink,
        *,
        alone: bool,
    ) -> ScoringResult:
        """Score what no other channel or replica has scored meanwhile (under the lease)."""
        cached = await self.store.get_scores(self.scorer.name, chash, [p.id for p in papers])
        todo = [p for p in papers if p.id not in cached]
        result = (
            await self.scorer.score(
                todo, criteria, listing=listing, budget_usd=budget, sink=sink, alone=alone
            )
            if todo
            else ScoringResult()
        )
        result.from_cache = len(cached)
        result.scores.update(cached)
        return result


@dataclass
class _StoreSink:
    """Each call's usage goes to the channel's ledger and each batch's scores to the shared cache
    the moment they arrive: a replica killed mid-scoring leaves an exact ledger, and the replica
    that takes over pays only for what was not scored yet."""

    store: Store
    scorer: str
    criteria_hash: str
    channel_id: str
    day: dt.date

    async def usage(self, usage: Usage) -> None:
        await self.store.record_usage(self.channel_id, self.day, usage)

    async def scores(self, scores: list[Score]) -> None:
        await self.store.put_scores(self.scorer, self.criteria_hash, scores)

    async def reader(self, key: str) -> None:
        await self.store.prefix_reader(key, self.criteria_hash)

    def shared_prefix(self, key: str, *, wait: bool = True) -> AbstractAsyncContextManager[bool]:
        return self.store.shared_prefix(key, self.criteria_hash, wait=wait)
