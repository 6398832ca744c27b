"""arXiv's daily RSS feed (rss.arxiv.org/rss/CATS): today's announcement, with announce types.

Format: info.arxiv.org/help/rss_specifications.html. The channel's pubDate is the announcement
day; a day without announcement (weekend, holiday) is a valid feed with no items.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re

import feedparser

from bot.errors import ArxivUnavailable
from bot.models import AnnounceType, Listing, Paper

__all__ = ["parse_rss"]

_GUID = re.compile(r"(?:oai:arXiv\.org:)?(?P<id>[\w.\-/]+?)v(?P<v>\d+)$")


def parse_rss(text: str, categories: list[str]) -> Listing:
    feed = feedparser.parse(text)
    if feed.bozo and not feed.entries and "title" not in feed.feed:
        raise ArxivUnavailable("arXiv's feed could not be read (not RSS).")
    day = _pub_day(feed.feed.get("published") or feed.feed.get("updated"))
    papers: dict[str, Paper] = {}
    for item in feed.entries:
        paper = _paper(item, day)
        if paper and paper.id not in papers:
            papers[paper.id] = paper
    return Listing(day=day, categories=categories, papers=list(papers.values()), source="arxiv rss")


def _pub_day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None


def _paper(item: feedparser.FeedParserDict, day: dt.date | None) -> Paper | None:
    match = _GUID.search(item.get("id", ""))
    if not match:
        return None
    description = item.get("summary", "")
    abstract = description.split("Abstract:", 1)[-1]
    categories = [t["term"] for t in item.get("tags", []) if t.get("term")]
    authors = [a.strip() for a in item.get("author", "").split(",") if a.strip()]
    try:
        announce = AnnounceType(item.get("arxiv_announce_type", "new"))
    except ValueError:
        announce = AnnounceType.NEW
    return Paper(
        id=match["id"],
        version=int(match["v"]),
        title=" ".join(item.get("title", "").split()),
        authors=authors,
        abstract=" ".join(abstract.split()),
        categories=categories,
        primary_category=categories[0] if categories else "",
        announce_type=announce,
        announced=day,
    )
