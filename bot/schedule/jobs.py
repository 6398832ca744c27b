"""The daily job for one channel, safe to run on every replica at once.

Exactly once per (channel, announcement day): a lease in Redis (SET NX PX, renewed while working,
released by token) lets one replica work, and every write of the delivery's record and progress is
made only while that lease is still held (WATCH/MULTI on its token); `last-delivered` is checked
before and after taking it; a delivery record (posting → posted), per-message progress and what the
channel itself shows let a replica resume a delivery whose owner died mid-post without posting
twice. Started deliveries are listed in Redis, so a survivor notices an expired lease within
seconds (Scheduler's takeover sweep).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError

from bot import metrics
from bot.deliver import Poster, Progress, deliver, native_id
from bot.digest import channel_criteria
from bot.errors import (
    ArxivBotError,
    ArxivUnavailable,
    ChatUnavailable,
    LeaseLost,
    ListingNotReady,
    PartlyConfirmed,
    StoreUnavailable,
)
from bot.feedback import TasteModel
from bot.library import Library
from bot.models import ChannelConfig, Digest, Listing, Paper, Score, ScoredPaper
from bot.schedule.calendar import (
    announced_at,
    announcement_days,
    latest_announcement,
    no_announcement,
)
from bot.scoring.service import ScoringService
from bot.store import REDIS_ERRORS, Store
from bot.store.keys import LATE_NOTICE_TTL, digest_lease, failed_notice, late_notice, weekly_lease
from bot.store.store import Lease

__all__ = ["DailyJobs", "Outcome", "due_at"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    channel_id: str
    day: dt.date | None
    status: str  # posted, empty, already, leased, unsubscribed, no-platform, failed,
    # waiting / late (arXiv has not confirmed the day yet: retried on the next sweep)
    papers: int = 0
    detail: str = ""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def due_at(config: ChannelConfig, day: dt.date) -> dt.datetime:
    """When the digest of listing `day` is due in this channel: the first time its own clock
    shows the schedule time at or after arXiv announced the listing. A New York channel at 08:00
    gets the listing announced at 20:00 the evening before; a Tokyo channel at 08:00, the one
    announced at 09:00 the morning before."""
    published = announced_at(day).astimezone(ZoneInfo(config.timezone))
    hour, minute = map(int, config.schedule_time.split(":"))
    at = published.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at >= published else at + dt.timedelta(days=1)


# A delivery this late is worth a word in the channel; before that, a failure is retried quietly
# (a replica's death or a Redis restart costs seconds, not an alarm).
LATE_AFTER = dt.timedelta(minutes=30)
# Leases one replica holds at once (deliveries it posts at once): beyond it, the rest stay free
# for the other replicas to take. High enough for one replica to post a 200-channel morning.
MAX_LEASES = 250


class DailyJobs:
    def __init__(
        self,
        store: Store,
        library: Library,
        posters: dict[str, Poster],
        *,
        owner: str,
        prescoring: ScoringService | None = None,
        catch_up_days: int = 3,
        max_wait: dt.timedelta = dt.timedelta(hours=3),
        lease_ms: int = 15_000,
        max_leases: int = MAX_LEASES,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.store = store
        self.library = library
        self.posters = posters
        # Scoring at announcement time (schedule/prescore.py) for the scheduler; None: no job.
        self.prescoring = prescoring
        self.catch_up_days = catch_up_days
        self.max_wait = max_wait
        self.owner = owner
        self.lease_ms = lease_ms
        self.clock = clock
        self._warned: set[str] = set()  # ops messages sent while Redis could not dedupe them
        # Digests built at once (CPU and Redis); posting is not bounded here, since each channel
        # waits on its own platform rate limit.
        self._building = asyncio.Semaphore(32)
        self._leases = asyncio.Semaphore(max_leases)

    async def due_channels(self, *, now: dt.datetime | None = None) -> list[str]:
        """Subscribed channels whose time has come and whose latest digest is not delivered, in
        random order (so that replicas sweeping at once do not all start with the same ones)."""
        now = now or self.clock()
        day = latest_announcement(now)
        due = []
        for channel_id in await self.store.channel_ids():
            config = await self.store.get_channel(channel_id)
            if not config or not config.subscribed or config.platform not in self.posters:
                continue
            last = await self.store.last_delivered(channel_id)
            if (last is None or last < day) and due_at(config, day) <= now:
                due.append(channel_id)
        random.shuffle(due)
        return due

    async def orphaned(self) -> list[str]:
        """Channels whose delivery started and whose lease has expired: their owner died."""
        found = []
        for channel_id, day in await self.store.active_deliveries():
            if not await self.store.leased(digest_lease(channel_id, day)):
                found.append(channel_id)
        random.shuffle(found)
        return found

    async def run_due(self, *, now: dt.datetime | None = None) -> list[Outcome]:
        """Every due channel: the catch-up on start-up and the periodic sweep that retries."""
        due = await self.due_channels(now=now)
        return list(await asyncio.gather(*(self.run_channel(c, now=now) for c in due)))

    async def run_channel(self, channel_id: str, *, now: dt.datetime | None = None) -> Outcome:
        """Never raises: every failure is logged, counted and left for the next sweep."""
        now = now or self.clock()
        day = latest_announcement(now)
        try:
            async with self._leases:
                return await self._run_leased(channel_id, day, now)
        except Exception as e:
            metrics.DIGESTS.labels(status="failed").inc()
            log.exception("digest for %s on %s failed unexpectedly", channel_id, day)
            return Outcome(channel_id, day, "failed", detail=type(e).__name__)

    async def _run_leased(self, channel_id: str, day: dt.date, now: dt.datetime) -> Outcome:
        store = self.store
        try:
            config = await store.get_channel(channel_id)
            if config is None or not config.subscribed:
                return Outcome(channel_id, day, "unsubscribed")
            poster = self.posters.get(config.platform)
            if poster is None:
                return Outcome(channel_id, day, "no-platform")
            if await self._delivered(channel_id, day):
                return Outcome(channel_id, day, "already")
            async with store.lease(digest_lease(channel_id, day), ttl_ms=self.lease_ms) as lease:
                if lease is None:
                    return Outcome(channel_id, day, "leased")
                return await self._under_lease(config, poster, day, now, lease)
        except REDIS_ERRORS as e:  # before the lease, or while recording a failure under it
            return await self._failed(channel_id, day, None, e, late=False)

    async def _under_lease(
        self, config: ChannelConfig, poster: Poster, day: dt.date, now: dt.datetime, lease: Lease
    ) -> Outcome:
        """Deliver the day; a failure is recorded while the lease is still held and renewed."""
        channel_id, started = config.id, time.perf_counter()
        try:
            await self.store.mark_active(channel_id, day)
            return await self._deliver_day(config, poster, day, lease)
        except LeaseLost:
            metrics.DIGESTS.labels(status="lease-lost").inc()
            log.warning("lost the lease of %s on %s; its new owner goes on", channel_id, day)
            return Outcome(channel_id, day, "leased", detail="lease lost")
        except ListingNotReady as e:
            return await self._not_ready(config, poster, day, now, e, lease)
        except (ArxivBotError, *REDIS_ERRORS) as e:
            late = now - due_at(config, day) >= LATE_AFTER
            return await self._failed(channel_id, day, poster, e, late=late, lease=lease)
        finally:
            metrics.JOB_SECONDS.observe(time.perf_counter() - started)

    async def _deliver_day(
        self, config: ChannelConfig, poster: Poster, day: dt.date, lease: Lease
    ) -> Outcome:
        """Under the lease: build the day's digest and post it, resuming an earlier attempt."""
        store, channel_id = self.store, config.id
        if await self._delivered(channel_id, day):
            await store.forget_active(channel_id, day)
            return Outcome(channel_id, day, "already")
        async with self._building:
            digest, late = await self._build(config, day)
        if (await store.get_delivery(channel_id, day)).get("late"):  # issue 14: said when late
            digest.notes.append("arXiv confirmed this day late; this digest waited for it.")
        if digest.fetched == 0:
            if config.notify_empty or day.weekday() < 5:  # a weekday: a holiday, always said
                await poster.post_text(native_id(channel_id), no_announcement(day))
            await self._finish(channel_id, day, "empty", [], lease)
            return Outcome(channel_id, day, "empty")
        previous = await store.get_delivery(channel_id, day)
        resumed = previous.get("state") == "posting"
        ids = [s.paper.id for s in digest.papers]
        before = json.loads(previous.get("papers") or "[]")
        if resumed and before and set(before) <= await store.posted_ids(channel_id):
            # Its owner posted every paper and died (or lost the lease) before the end: the
            # digest built now leaves those out and would post others under the same header.
            await self._finish(channel_id, day, "posted", before, lease)
            return Outcome(channel_id, day, "posted", papers=len(before))
        await store.set_delivery(
            channel_id,
            day,
            lease=lease,
            state="posting",
            owner=self.owner,
            papers=json.dumps(ids),
            resumed_from=previous.get("owner", "") if resumed else "",
            pending=",".join(late),  # categories arXiv had not announced: the next digest's
        )
        progress = await Progress.load(
            store, channel_id, day, resumed=resumed, lease=lease, lease_ms=self.lease_ms
        )
        await deliver(store, poster, digest, marker=f"{channel_id}:{day}", progress=progress)
        await self._finish(channel_id, day, "posted", ids, lease)
        metrics.DIGESTS.labels(status="posted").inc()
        return Outcome(channel_id, day, "posted", papers=len(ids))

    async def run_weekly(self, channel_id: str, *, now: dt.datetime | None = None) -> Outcome:
        """The week's best posted papers, by the channel's reactions and then by score; one
        resumable delivery (per-message progress under its lease), like the daily digest."""
        now = now or self.clock()
        week = now.date() - dt.timedelta(days=now.date().weekday())
        store = self.store
        config = await store.get_channel(channel_id)
        poster = self.posters.get(config.platform) if config else None
        if config is None or not config.weekly_day or poster is None:
            return Outcome(channel_id, week, "unsubscribed")
        try:
            async with store.lease(weekly_lease(channel_id, week), ttl_ms=self.lease_ms) as lease:
                if lease is None:
                    return Outcome(channel_id, week, "leased")
                if (await store.get_delivery(channel_id, week, "weekly")).get("state") == "posted":
                    return Outcome(channel_id, week, "already")
                digest = await weekly_digest(self.store, self.library.scoring, config, now=now)
                if digest.papers:
                    marker = f"{channel_id}:weekly:{week}"
                    progress = await Progress.of(
                        store, marker, resumed=True, lease=lease, lease_ms=self.lease_ms
                    )
                    await deliver(store, poster, digest, marker=marker, progress=progress)
                await store.set_delivery(
                    channel_id, week, lease=lease, kind="weekly", state="posted", owner=self.owner
                )
            return Outcome(channel_id, week, "posted", papers=len(digest.papers))
        except (ArxivBotError, *REDIS_ERRORS) as e:
            log.warning("weekly roll-up of %s failed: %s", channel_id, e)
            metrics.DIGESTS.labels(status="failed").inc()
            return Outcome(channel_id, week, "failed", detail=_in_words(e))

    async def _delivered(self, channel_id: str, day: dt.date) -> bool:
        last = await self.store.last_delivered(channel_id)
        return last is not None and last >= day

    async def _finish(
        self, channel_id: str, day: dt.date, state: str, ids: list[str], lease: Lease
    ) -> None:
        await self.store.finish_delivery(
            channel_id, day, lease=lease, state=state, papers=json.dumps(ids), owner=self.owner
        )

    async def _build(self, config: ChannelConfig, day: dt.date) -> tuple[Digest, list[str]]:
        """The day's digest; after downtime, one catch-up digest over the missed days (capped).
        Past the wait, a day only some categories of which arXiv confirmed is built of those
        (the late ones returned, for the next digest, which also reads the last one's)."""
        last = await self.store.last_delivered(config.id)
        cap = self.catch_up_days
        days = announcement_days(last, day)[-max(cap, 1) :] if last else [day]
        wait = self.max_wait
        listings, late = [], []
        for d in days:
            try:
                listings.append(await self.library.listing(d, config.categories))
            except PartlyConfirmed as e:
                if d != day or self.clock() - due_at(config, d) < wait:
                    raise
                listings.append(e.listing)
                late = e.late
        pending = (await self.store.get_delivery(config.id, last)).get("pending") if last else ""
        if pending:
            listings.append(await self.library.listing(last, pending.split(",")))
        merged: dict[str, Paper] = {}
        for listing in listings:
            for paper in listing.papers:
                merged.setdefault(paper.id, paper)
        metrics.PAPERS_FETCHED.inc(len(merged))
        listing = Listing(day=day, categories=config.categories, papers=list(merged.values()))
        digest = await self.library.build(config, listing)
        if late:
            digest.notes.append(
                f"arXiv has not announced {', '.join(late)} for this day yet: their papers "
                "follow in the next digest."
            )
        if len(days) > 1:
            digest.notes += [no_announcement(x.day) for x in listings if x.day and not x.papers]
            digest.notes.append(
                "Catch-up digest: includes the missed announcements of "
                + ", ".join(d.isoformat() for d in days)
                + "."
            )
        metrics.record_usage(digest.usage)
        return digest, late

    # --- late days (issue 14): not confirmed by arXiv yet -> retried, said once, never "delivered"
    async def _not_ready(
        self,
        config: ChannelConfig,
        poster: Poster,
        day: dt.date,
        now: dt.datetime,
        error: ListingNotReady,
        lease: Lease,
    ) -> Outcome:
        """Leave the day undelivered for the next sweep; past `arxiv.max_wait_hours` after it
        was due, tell the channel once that it is late. Not an active delivery meanwhile: the
        takeover check, every few seconds, is for deliveries whose owner died, not for arXiv."""
        await self.store.forget_active(config.id, day)
        metrics.DIGESTS.labels(status="waiting").inc()
        log.info("digest for %s on %s waits: %s", config.id, day, error.reason)
        wait = self.max_wait
        late = now - due_at(config, day) >= wait
        if late and await self.store.once(late_notice(config.id, day), ttl=LATE_NOTICE_TTL):
            await self.store.set_delivery(config.id, day, lease=lease, late=error.reason)
            await poster.post_text(
                native_id(config.id),
                f"Today's arXiv digest is late: {error.message} It will be posted as soon as "
                "arXiv confirms the day.",
            )
            return Outcome(config.id, day, "late", detail=error.reason)
        return Outcome(config.id, day, "waiting", detail=error.reason)

    async def _failed(
        self,
        channel_id: str,
        day: dt.date,
        poster: Poster | None,
        error: Exception,
        *,
        late: bool,
        lease: Lease | None = None,
    ) -> Outcome:
        """Log and count; note the error on the record only under the lease (never its state: a
        `posting` record is what makes the next attempt recover); tell the channel, once and in
        words, only when the digest is really late."""
        metrics.DIGESTS.labels(status="failed").inc()
        why = _in_words(error)
        log.error("digest for %s on %s failed: %s (%s)", channel_id, day, why, type(error).__name__)
        # Redis away is the operators' business (readyz, metrics), retried within seconds: a
        # channel hears only of what is late for reasons of its own (arXiv, the platform).
        late = late and not _store_error(error)
        key = failed_notice(channel_id, day)
        try:
            if lease is not None:
                await self.store.set_delivery(channel_id, day, lease=lease, error=why)
            first = late and await self.store.once(key)
        except (LeaseLost, *REDIS_ERRORS):
            first = late and key not in self._warned
        if first:
            self._warned.add(key)
        if first and poster is not None:
            try:
                await poster.post_text(
                    native_id(channel_id),
                    f"Today's arXiv digest could not be built yet: {why} "
                    "It will be retried automatically.",
                )
            except ArxivBotError as e:
                log.warning("could not tell %s that its digest is late: %s", channel_id, e)
        return Outcome(channel_id, day, "failed", detail=why)


def _store_error(error: Exception) -> bool:
    return isinstance(error, StoreUnavailable | RedisError)


def _in_words(error: Exception) -> str:
    """What failed, for people: never a raw exception text or a host:port."""
    if _store_error(error):
        return "The bot's state store (Redis) could not be reached."
    if isinstance(error, ArxivUnavailable):
        return "arXiv could not be reached."
    if isinstance(error, ChatUnavailable):
        return str(error)
    if isinstance(error, ArxivBotError):
        return error.message
    return "An unexpected error occurred; it has been logged."


async def weekly_digest(
    store: Store, scoring: ScoringService, config: ChannelConfig, *, now: dt.datetime
) -> Digest:
    """A Digest of the papers posted in the channel over the last 7 days, best first."""
    posted = await store.posted_ids(config.id)
    week_ago = now.date() - dt.timedelta(days=7)
    papers = [
        p
        for p in await store.recent_papers(days=7)
        if p.id in posted and p.announced and p.announced > week_ago
    ]
    # Each paper as it was scored on its own day (a channel's criteria follow its reactions).
    scores: dict[str, Score] = {}
    taste = await TasteModel.load(store, config.id)
    # A week with no posts still names the criteria it would have used.
    criteria = channel_criteria(config, taste, now.date())
    for day in sorted({p.announced for p in papers if p.announced}):
        criteria = channel_criteria(config, taste, day)
        of_day = [p for p in papers if p.announced == day]
        scores |= await scoring.cached(criteria, [p.id for p in of_day])
        missing = [p for p in of_day if p.id not in scores]
        scores |= {s.paper_id: s for s in scoring.local.rank(missing, criteria)}
    votes = await store.reactions(config.id)
    ranked = sorted(
        (ScoredPaper(paper=p, score=scores[p.id]) for p in papers if p.id in scores),
        key=lambda s: (-votes.get(s.paper.id, 0), -s.score.relevance, -s.score.novelty),
    )
    liked = sum(1 for s in ranked if votes.get(s.paper.id, 0) > 0)
    return Digest(
        channel=config.id,
        day=now.date(),
        fetched=len(papers),
        scanned=len(papers),
        papers=ranked[: config.max_papers],
        ranked=ranked,
        criteria=criteria,
        notes=[
            f"Weekly roll-up: the week's best of {len(papers)} posted papers, "
            f"{liked} liked here first, then by score."
        ],
    )
