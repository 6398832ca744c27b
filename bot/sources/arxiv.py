"""Live arXiv, by announcement day: each day read from the interface that knows it at that hour,
and returned only once confirmed (the interface states the day and its counts add up).

- latest day, from its 20:00 ET announcement: the `/list/CAT/new` pages (abstracts included);
  from midnight ET the RSS feed too, checked against them (and used alone if the pages fail and
  the feed is not cut at its 2,000 items);
- a past day still on the `/list/CAT/recent` pages (the last five): its ids there, metadata
  through the API's `id_list`;
- older days: OAI-PMH (the interface arXiv asks harvesters to use for past days), each
  record's announcement day worked out from its versions' dates (oai.py), the API's `id_list`
  filling in what a record lacks;
- the API's date search over the day's ET submission window: the last resort, when OAI-PMH
  does not answer.

A day not confirmed yet raises ListingNotReady (never an empty or stale listing). A weekday
without an announcement (a holiday: an empty listing) only when the interfaces agree: the
listing pages still show an earlier day and the feed, rebuilt for that date, has nothing, on a
configured holiday (`arxiv.holidays`); or, configured or not, once the recent pages (or, for an
older day, OAI-PMH) skip it. A configured holiday that arXiv did announce is read like any day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from bot.errors import ArxivUnavailable, ListingNotReady, ListingUnreadable, PartlyConfirmed
from bot.models import Listing, Paper
from bot.settings import ArxivSettings
from bot.sources.announce import announce_type
from bot.sources.api import ArxivApi
from bot.sources.atom import AtomApi
from bot.sources.cycle import ANNOUNCE_TZ, Cycle
from bot.sources.http import NotFound, Pacer, PoliteFetcher, Sleep
from bot.sources.listing_page import PageEntry, page_day, parse_new_page, parse_recent_page
from bot.sources.oai import OaiPmh, oai_sets
from bot.sources.rss import parse_rss

__all__ = ["HOLIDAY", "RSS_CAP", "ArxivSource"]

log = logging.getLogger(__name__)

HOLIDAY = "no announcement (holiday)"
RSS_CAP = 2000  # arXiv's feeds stop at 2,000 items: a feed that long may be cut
_SHOW = 2000


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ArxivSource:
    name = "arxiv"

    def __init__(
        self,
        settings: ArxivSettings,
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        sleep: Sleep | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.cycle = Cycle.with_holidays(settings.holidays)
        self.fetcher = PoliteFetcher(
            delay=settings.delay_seconds,
            retries=settings.retries,
            timeout=settings.timeout_seconds,
            base_backoff=settings.backoff_seconds,
            retry_after_cap=settings.retry_after_cap_seconds,
            contact=settings.contact,
            pacer=pacer,
            **({"sleep": sleep} if sleep else {}),
        )
        self.api = ArxivApi(
            url=settings.api_url,
            delay=settings.delay_seconds,
            retries=settings.retries,
            timeout=settings.timeout_seconds,
        )
        self.atom = AtomApi(self.fetcher, settings.api_url)
        self.oai = OaiPmh(self.fetcher, settings.oai_url)

    async def listing(self, day: dt.date | None, categories: list[str]) -> Listing:
        """Day `day`'s confirmed listing (None: the latest announcement the pages show)."""
        now = self.clock()
        if day is None:
            return await self._latest(None, categories, now)
        if day.weekday() >= 5:
            return _empty(day, categories, "no announcement (weekend)")
        if self.cycle.announced_at(day) > now:
            raise ListingNotReady(day, f"arXiv announces it at {self._when(day)}")
        if day >= Cycle().latest(now):  # holidays counted as days: arXiv may announce anyway
            return await self._latest(day, categories, now)
        return await self._past(day, categories)

    async def _get(self, url: str) -> str:
        try:
            return await self.fetcher.get_text(url)
        except NotFound as e:  # a renamed page or category: said, not a traceback
            raise ListingUnreadable(f"arXiv has no page {url.split('?')[0]}.") from e

    def _when(self, day: dt.date) -> str:
        return f"{self.cycle.announced_at(day):%a %H:%M} New York time"

    # -------------------------------------------------------------- the latest announcement
    async def _latest(
        self, day: dt.date | None, categories: list[str], now: dt.datetime
    ) -> Listing:
        try:
            listing = await self._pages(day, categories)
        except _Behind as e:
            assert day is not None
            if day in self.cycle.holidays and await self._feed_empty(day, categories, now):
                return _empty(day, categories, HOLIDAY)
            raise ListingNotReady(day, e.reason) from None
        except ArxivUnavailable as e:
            if day is None or not self._feed_rebuilt(day, now):
                raise
            log.warning("arXiv's listing pages failed (%s); trying the RSS feed", e)
            return await self._rss_only(day, categories)
        if day is not None and listing.day != day:
            if listing.day is not None and listing.day > day:
                return await self._past(day, categories)
            raise ListingNotReady(day, f"the listing pages still show {listing.day}")
        assert listing.day is not None
        if self._feed_rebuilt(listing.day, now):
            await self._check_rss(listing, categories)
        return listing

    async def _pages(self, day: dt.date | None, categories: list[str]) -> Listing:
        """The `/new` pages of `categories`. A page still showing an earlier day than `day` is
        a late category, read from its head only: all late, not ready (`_Behind`); some late,
        PartlyConfirmed with the confirmed categories' listing."""
        base = self.settings.list_url.rstrip("/")
        days: set[dt.date] = set()
        entries: dict[str, PageEntry] = {}
        behind: dict[str, dt.date] = {}
        for cat in categories:
            html = await self._get(f"{base}/{cat}/new?show={_SHOW}")
            shown = page_day(html)
            if day is not None and shown is not None and shown < day:
                behind[cat] = shown
                continue
            # Hundreds of entries: parsed off the event loop, so leases and acks keep their time.
            page = await asyncio.to_thread(parse_new_page, html)
            days.add(page.day)
            for entry in page.entries:
                entries.setdefault(entry.id, entry)
        if day is not None and not days:
            raise _Behind(day, f"the listing pages still show {min(behind.values())}")
        if len(days) > 1 or (behind and day not in days):
            # one category's page already turned over: wait for all of them
            raise ListingNotReady(max(days), "the categories' listing pages show different days")
        shown_day = days.pop()
        wanted = set(categories)
        papers = [_from_entry(e, shown_day, wanted) for e in entries.values()]
        confirmed = [c for c in categories if c not in behind]
        listing = Listing(
            day=shown_day, categories=confirmed, papers=papers, source="arxiv listing pages"
        )
        if behind:
            assert day is not None
            raise PartlyConfirmed(day, listing, list(behind))
        return listing

    def _feed_rebuilt(self, day: dt.date, now: dt.datetime) -> bool:
        """The RSS feed holds listing `day` on that date in ET: rebuilt at the midnight after its
        announcement, emptied at the next one (weekends, holidays)."""
        return now.astimezone(ANNOUNCE_TZ).date() == day

    async def _feed_empty(self, day: dt.date, categories: list[str], now: dt.datetime) -> bool:
        """The feed, rebuilt at midnight of `day`, states `day` and holds no item: no
        announcement (before that midnight it still holds the previous day: not known yet)."""
        if not self._feed_rebuilt(day, now):
            return False
        try:
            feed = await self._rss(categories)
        except ArxivUnavailable as e:
            log.info("RSS check of holiday %s failed: %s", day, e)
            return False
        return feed.day == day and not feed.papers

    async def _rss(self, categories: list[str]) -> Listing:
        url = f"{self.settings.rss_url.rstrip('/')}/{'+'.join(categories)}"
        return await asyncio.to_thread(parse_rss, await self._get(url), categories)

    async def _check_rss(self, listing: Listing, categories: list[str]) -> None:
        """Compare with the feed; the pages' counts were checked, so they win a disagreement."""
        try:
            feed = await self._rss(categories)
        except ArxivUnavailable as e:
            log.info("RSS check of %s skipped: %s", listing.day, e)
            return
        if feed.day != listing.day:
            log.warning("arXiv's RSS for %s is stale: it shows %s", "+".join(categories), feed.day)
            return
        ours, theirs = {p.id for p in listing.papers}, {p.id for p in feed.papers}
        if ours != theirs and len(feed.papers) < RSS_CAP:
            log.warning(
                "arXiv's RSS and listing pages disagree on %s: %d only on the pages, %d only "
                "in the feed",
                listing.day,
                len(ours - theirs),
                len(theirs - ours),
            )

    async def _rss_only(self, day: dt.date, categories: list[str]) -> Listing:
        feed = await self._rss(categories)
        if feed.day != day:
            raise ListingNotReady(day, f"the RSS feed shows {feed.day}")
        if len(feed.papers) >= RSS_CAP:
            raise ListingNotReady(day, f"the RSS feed stops at its {RSS_CAP}-item cap")
        return feed

    # -------------------------------------------------------------- past days
    async def _past(self, day: dt.date, categories: list[str]) -> Listing:
        ids: dict[str, None] = {}
        covered = True
        for cat in categories:
            found = await self._recent_ids(cat, day)
            if found is None:
                covered = False
                break
            ids |= dict.fromkeys(found)
        if not covered:
            try:
                return await self._oai_day(day, categories)
            except ArxivUnavailable as e:
                log.warning("arXiv's OAI-PMH failed (%s); searching the API by date", e)
                return await self.atom.by_window(day, categories, self.cycle)
        if not ids:
            return _empty(day, categories, HOLIDAY)
        papers = await self.atom.by_ids(list(ids), day, set(categories))
        missing = set(ids) - {p.id for p in papers}
        if missing:
            raise ListingNotReady(day, f"the API does not know {len(missing)} of its papers yet")
        order = {pid: i for i, pid in enumerate(ids)}
        papers.sort(key=lambda p: order.get(p.id, len(order)))
        return Listing(day=day, categories=categories, papers=papers, source="arxiv recent + api")

    async def _oai_day(self, day: dt.date, categories: list[str]) -> Listing:
        """`day` from OAI-PMH: records stamped from its window's first day until now (a record
        announced on `day` and changed since is stamped later), kept when a version of theirs
        was announced on `day`."""
        start = self.cycle.window(day)[0].astimezone(dt.UTC).date()
        until = self.clock().astimezone(dt.UTC).date()
        wanted = set(categories)
        papers: dict[str, Paper] = {}
        for set_spec in oai_sets(categories):
            for record in await self.oai.records(start, until, set_spec):
                version = record.announced(self.cycle).get(day)
                if version is not None and wanted & set(record.categories):
                    papers.setdefault(record.id, record.paper(day, version, wanted))
        lacking = [pid for pid, p in papers.items() if not (p.title and p.abstract)]
        if lacking:
            for found in await self.atom.by_ids(lacking, day, wanted):
                if found.id not in papers:
                    continue
                old = papers[found.id]
                papers[found.id] = found.model_copy(
                    update={"version": old.version, "announce_type": old.announce_type}
                )
            still = [pid for pid in lacking if not papers[pid].abstract]
            if still:
                raise ListingNotReady(day, f"the API does not know {len(still)} of its papers yet")
        return Listing(
            day=day, categories=categories, papers=list(papers.values()), source="arxiv oai-pmh"
        )

    async def _recent_ids(self, cat: str, day: dt.date) -> list[str] | None:
        """`day`'s ids on CAT's recent pages; [] when the pages skip it (no announcement that
        day), None when it is older than the five days they show."""
        base = f"{self.settings.list_url.rstrip('/')}/{cat}/recent"
        seen: dict[dt.date, tuple[int, list[str]]] = {}
        skip = 0
        while True:
            html = await self._get(f"{base}?skip={skip}&show={_SHOW}")
            page = await asyncio.to_thread(parse_recent_page, html)
            for d in page:
                seen.setdefault(d.day, (d.stated, []))[1].extend(d.ids)
            shown = sum(len(d.ids) for d in page)
            done = day in seen and len(seen[day][1]) >= seen[day][0]
            if done or shown == 0 or any(d < day for d in seen):
                break
            skip += shown
        if day in seen:
            stated, ids = seen[day]
            if len(ids) != stated:
                raise ListingUnreadable(
                    f"arXiv's recent page of {cat} states {stated} entries on {day} but holds "
                    f"{len(ids)}."
                )
            return ids
        return [] if any(d < day for d in seen) else None


class _Behind(ListingNotReady):
    """The listing pages still show a day before the one asked for."""


def _empty(day: dt.date, categories: list[str], why: str) -> Listing:
    return Listing(day=day, categories=categories, papers=[], source=f"arxiv: {why}")


def _from_entry(entry: PageEntry, day: dt.date, wanted: set[str]) -> Paper:
    """A page entry as a paper; its announce type relative to all the categories asked for."""
    primary = entry.subjects[0] if entry.subjects else ""
    kind = announce_type(cross=primary not in wanted, replaced=entry.section == "replace")
    return Paper(
        id=entry.id,
        version=entry.version or (2 if kind.is_replacement else 1),
        title=entry.title,
        authors=entry.authors,
        abstract=entry.abstract,
        categories=entry.subjects,
        primary_category=primary,
        announce_type=kind,
        comment=entry.comments or None,
        announced=day,
    )
