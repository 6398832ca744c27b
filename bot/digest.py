"""fetch → score → select for one channel and one announcement day. No rendering, no delivery."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, field

from bot.feedback import TasteModel
from bot.models import (
    AnnounceType,
    ChannelConfig,
    Criteria,
    Digest,
    Listing,
    Paper,
    ScoredPaper,
    Usage,
)
from bot.scoring import guard, prompts
from bot.scoring.base import status_line
from bot.scoring.local import followed_authors
from bot.scoring.memo import papers_key
from bot.scoring.service import Scored, ScoringService
from bot.sources import Source
from bot.store import Store
from bot.store.keys import fetch_lease

__all__ = ["DigestBuilder", "candidates", "channel_criteria", "select"]

log = logging.getLogger(__name__)

# Longer than a slow arXiv fetch with its retries; a crashed fetcher's lease expires by itself.
_FETCH_LEASE_MS = 5 * 60 * 1000
# Distinct (interests, listing) pairs remembered: a large deployment's day, catch-ups included.
_SHARED_SIZE = 64

_Key = tuple[str, str, tuple[str, ...], dt.date | None]
# A set lookup per paper instead of the property's tuple, for every channel's whole listing.
_REPLACEMENTS = frozenset(t for t in AnnounceType if t.is_replacement)


@dataclass
class _Shared:
    """What every channel with the same criteria and listing gets: the scores (made, or read from
    the shared cache, once) and the ranking without a taste model (sorted once)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    scored: Scored | None = None
    ranked: list[ScoredPaper] | None = None


class DigestBuilder:
    def __init__(self, *, source: Source, store: Store, scoring: ScoringService) -> None:
        self.source = source
        self.store = store
        self.scoring = scoring
        self._fetching: dict[str, asyncio.Lock] = {}
        self._shared: OrderedDict[_Key, _Shared] = OrderedDict()

    async def listing(self, day: dt.date | None, categories: list[str]) -> Listing:
        """The day's listing, fetched once per (day, category set) and then read from the store.

        Single flight: concurrent channels in this process wait on one lock, and replicas on one
        Redis lease, so a hundred channels make one request to arXiv.
        """
        key = fetch_lease(day, categories)
        async with self._fetching.setdefault(key, asyncio.Lock()):
            if (stored := await self._stored(day, categories)) is not None:
                return stored
            # A known day waits for the replica fetching it, then reads what it stored; the latest
            # listing (day unknown) is fetched here without waiting if another replica has it.
            wait = math.inf if day is not None else 0.0
            async with self.store.lease(key, ttl_ms=_FETCH_LEASE_MS, wait=wait):
                if (stored := await self._stored(day, categories)) is not None:
                    return stored
                listing = await self.source.listing(day, categories)
                if listing.day is not None:
                    await self.store.put_listing(listing.day, categories, listing.papers)
                return listing

    async def _stored(self, day: dt.date | None, categories: list[str]) -> Listing | None:
        stored = await self.store.get_listing(day, categories) if day is not None else None
        if day is None or stored is None:
            return None
        return Listing(day=day, categories=categories, papers=stored, source="store")

    async def criteria(self, channel: ChannelConfig, day: dt.date | None) -> Criteria:
        return channel_criteria(channel, await TasteModel.load(self.store, channel.id), day)

    async def budget_left(self, channel: ChannelConfig) -> float:
        """What the channel may still spend today, whatever listing it scores: spend is booked,
        and budgeted, on the day it is spent."""
        spent = (await self.store.usage(channel.id, dt.date.today())).cost_usd
        return max(0.0, channel.budget_usd - spent)

    async def build(
        self,
        channel: ChannelConfig,
        *,
        day: dt.date | None = None,
        listing: Listing | None = None,
        skip_posted: bool = True,
        criteria: Criteria | None = None,
        alone: bool = False,
    ) -> Digest:
        """`alone`: someone waits for this digest, so its Claude calls wait for no other set of
        interests to share them (the scheduled ones do: they share calls with every channel)."""
        listing = listing or await self.listing(day, channel.categories)
        papers = candidates(channel, listing)
        taste = await TasteModel.load(self.store, channel.id)
        if criteria is None:
            criteria = channel_criteria(channel, taste, listing.day)
        scorer = self.scoring.scorer
        shared = self._shared_for(
            (
                scorer.name,
                f"{criteria.digest()}-{scorer.prompt_version}",
                papers_key(papers),
                listing.day,
            )
        )
        async with shared.lock:  # the first channel scores; the others with these interests wait
            scored = shared.scored or await self._score(
                channel, papers, criteria, listing.day, alone=alone
            )
            if shared.scored is None and not scored.failures:
                shared.scored = _as_read_back(scored, self.scoring)
        # Without a taste model the ranking depends on the shared scores alone: sorted once.
        reusable = taste is None and not scored.failures
        ranked = shared.ranked if reusable and shared.ranked is not None else None
        if ranked is None:
            ranked = rank(scored, criteria, taste)
            if reusable:
                shared.ranked = ranked
        posted = await self.store.posted_ids(channel.id) if skip_posted else set()
        notes = []
        if scored.flagged:
            notes.append(guard.digest_note(scored.flagged))
        if listing.day is None or not listing.papers:
            notes.append("No announcement from arXiv for this day (weekend or holiday).")
        using_local = self.scoring.scorer.name == "local"
        chosen, commented = await self.scoring.comment(
            select(ranked, channel, posted),
            criteria,
            channel_id=channel.id,
            budget_usd=await self.budget_left(channel),
            alone=alone,
        )
        return Digest(
            channel=channel.id,
            day=listing.day,
            fetched=len(listing.papers),
            scanned=len(scored.scanned),
            papers=chosen,
            ranked=ranked,
            usage=scored.usage + commented,
            scored_by=self._scored_by(scored),
            status=status_line(scored.failures, len(scored.scanned)),
            notes=notes,
            prompt=prompts.criteria_text(criteria) if using_local else prompts.appendix(criteria),
            criteria=criteria,
        )

    def _shared_for(self, key: _Key) -> _Shared:
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = _Shared()
            if len(self._shared) > _SHARED_SIZE:
                self._shared.popitem(last=False)
        self._shared.move_to_end(key)
        return shared

    async def _score(
        self,
        channel: ChannelConfig,
        papers: list[Paper],
        criteria: Criteria,
        day: dt.date | None,
        *,
        alone: bool,
    ) -> Scored:
        return await self.scoring.score(
            papers,
            criteria,
            day=day,
            channel_id=channel.id,
            budget_usd=await self.budget_left(channel),
            alone=alone,
        )

    def _scored_by(self, scored: Scored) -> str:
        """The scorer that made the scores, and who paid: this run, or an earlier one."""
        model = self.scoring.scorer.name
        if not any(s.scorer == model for s in scored.scores.values()):
            return "local ranker"
        if not scored.cached:
            return model
        paid = "paid by another channel or the prescore run"
        if not scored.usage.calls:
            return f"{model} (cached; {paid})"
        return f"{model} ({scored.cached} scores cached, {paid})"


def _as_read_back(scored: Scored, scoring: ScoringService) -> Scored:
    """`scored` as the next channel with these criteria would get it from the scoring service:
    the same scores, all read from the shared cache, nothing spent (the first channel paid)."""
    claude = scoring.scorer.name != scoring.local.name
    return dataclasses.replace(scored, usage=Usage(), cached=len(scored.scores) if claude else 0)


def rank(scored: Scored, criteria: Criteria, taste: TasteModel | None) -> list[ScoredPaper]:
    """The scored papers best first, each with the followed authors it has."""
    return sorted(
        (
            # Validated: pydantic keeps the given Paper and Score as they are (no revalidation),
            # which is twice as fast as model_construct's Python loop, once per paper and set.
            ScoredPaper(
                paper=p,
                score=taste.adjust(p, scored.scores[p.id]) if taste else scored.scores[p.id],
                followed_authors=followed_authors(p, criteria.authors),
            )
            for p in scored.scanned
            if p.id in scored.scores
        ),
        key=lambda s: (-s.score.relevance, -s.score.novelty, s.paper.id),
    )


def channel_criteria(
    channel: ChannelConfig, taste: TasteModel | None, day: dt.date | None
) -> Criteria:
    """What the channel's papers are scored against on `day`: its settings plus what its
    reactions taught (which change at most once a day, so the score cache holds all day)."""
    criteria = channel.criteria()
    return taste.criteria(criteria, day=day) if taste is not None else criteria


def candidates(channel: ChannelConfig, listing: Listing) -> list[Paper]:
    """The listing's papers this channel considers at all."""
    if channel.include_replacements:
        return list(listing.papers)
    return [p for p in listing.papers if p.announce_type not in _REPLACEMENTS]


def shown(s: ScoredPaper, channel: ChannelConfig, posted: set[str]) -> bool:
    """The one rule of what a digest here shows (within the channel's max): not posted here
    before, and by a followed author or above both thresholds. `left_out` says why not."""
    return s.paper.id not in posted and bool(
        s.followed_authors
        or (
            s.score.relevance >= channel.relevance_threshold
            and s.score.novelty >= channel.novelty_threshold
        )
    )


def left_out(s: ScoredPaper, channel: ChannelConfig, posted: set[str]) -> str | None:
    """Why a digest here would not show `s` (for `score ID`), or None when it would."""
    if shown(s, channel, posted):
        return None
    if s.paper.id in posted:
        return "Posted here already."
    return (
        f"Below this channel's thresholds (relevance ≥ {channel.relevance_threshold}, "
        f"novelty ≥ {channel.novelty_threshold})."
    )


def select(
    ranked: list[ScoredPaper], channel: ChannelConfig, posted: set[str]
) -> list[ScoredPaper]:
    """What `shown` keeps of `ranked` (best first: relevance never rises along it), capped at
    the channel's max; followed authors first, so a busy day never pushes them out.

    Every channel reads its whole day's ranking: the other papers are read only until the max is
    reached or relevance falls below the threshold, past which only followed authors pass."""
    followed = [s for s in ranked if s.followed_authors and shown(s, channel, posted)]
    chosen = followed[: channel.max_papers]
    for s in ranked:
        if len(chosen) >= channel.max_papers or s.score.relevance < channel.relevance_threshold:
            break
        if not s.followed_authors and shown(s, channel, posted):
            chosen.append(s)
    return chosen
