"""The export API's Atom answers, fetched page by page through the polite fetcher: each page is
its own request with its own timeout, so a 1,700-paper day cannot time out as a whole."""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import urlencode

import feedparser

from bot.errors import ListingUnreadable
from bot.models import Listing, Paper, split_arxiv_id
from bot.sources.announce import classify
from bot.sources.cycle import Cycle
from bot.sources.http import PoliteFetcher

__all__ = ["AtomApi"]

PAGE = 200  # ids per id_list request, entries per search page


class AtomApi:
    def __init__(self, fetcher: PoliteFetcher, url: str) -> None:
        self.fetcher = fetcher
        self.url = url.rstrip("?")

    async def _page(self, **params: str | int) -> tuple[int, list[feedparser.FeedParserDict]]:
        text = await self.fetcher.get_text(f"{self.url}?{urlencode(params)}")
        feed = await asyncio.to_thread(feedparser.parse, text)  # 200 entries: off the loop
        if feed.bozo and not feed.entries and "title" not in feed.feed:
            raise ListingUnreadable("The arXiv API answered something that is not Atom.")
        errors = [e for e in feed.entries if e.get("title") == "Error"]
        if errors:
            raise ListingUnreadable(f"The arXiv API refused the query: {errors[0].get('summary')}.")
        return int(feed.feed.get("opensearch_totalresults", 0)), feed.entries

    async def by_ids(self, ids: list[str], day: dt.date, requested: set[str]) -> list[Paper]:
        """Every id's metadata with its abstract, PAGE ids a request."""
        papers: list[Paper] = []
        for i in range(0, len(ids), PAGE):
            chunk = ids[i : i + PAGE]
            _, entries = await self._page(id_list=",".join(chunk), max_results=len(chunk))
            papers += [_paper(e, day, requested) for e in entries]
        return papers

    async def by_window(self, day: dt.date, categories: list[str], cycle: Cycle) -> Listing:
        """The last resort for an old day: its ET submission window, in UTC as the API reads it.
        Moderation holds and holidays move papers between days, so this approximates."""
        start, end = (t.astimezone(dt.UTC) for t in cycle.window(day))
        cats = " OR ".join(f"cat:{c}" for c in categories)
        last = end - dt.timedelta(minutes=1)
        query = f"({cats}) AND submittedDate:[{start:%Y%m%d%H%M} TO {last:%Y%m%d%H%M}]"
        wanted = set(categories)
        papers: dict[str, Paper] = {}
        offset, total = 0, None
        while total is None or offset < total:
            total, entries = await self._page(
                search_query=query,
                start=offset,
                max_results=PAGE,
                sortBy="submittedDate",
                sortOrder="ascending",
            )
            if not entries:
                break
            offset += len(entries)
            for entry in entries:
                paper = _paper(entry, day, wanted)
                papers.setdefault(paper.id, paper)
        return Listing(
            day=day,
            categories=categories,
            papers=list(papers.values()),
            source="arxiv api (submission dates)",
        )


def _paper(entry: feedparser.FeedParserDict, day: dt.date, requested: set[str]) -> Paper:
    pid, version = split_arxiv_id(entry.get("id", "").rsplit("/abs/", 1)[-1])
    cats = [t["term"] for t in entry.get("tags", []) if t.get("term")]
    primary = entry.get("arxiv_primary_category", {}).get("term") or (cats[0] if cats else "")
    return Paper(
        id=pid,
        version=version or 1,
        title=" ".join(entry.get("title", "").split()),
        authors=[a.get("name", "") for a in entry.get("authors", [])],
        abstract=" ".join(entry.get("summary", "").split()),
        categories=[primary, *[c for c in cats if c != primary]],
        primary_category=primary,
        announce_type=classify(pid, primary, requested, day),
        comment=entry.get("arxiv_comment") or None,
        announced=day,
    )
