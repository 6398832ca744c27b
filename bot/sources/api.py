"""The arXiv export API through the `arxiv` package: lookups by id and search (past days are
read by announcement day in arxiv.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import arxiv
import requests

from bot.errors import ArxivUnavailable
from bot.models import Paper, split_arxiv_id
from bot.sources.announce import classify

__all__ = ["ArxivApi"]

log = logging.getLogger(__name__)

_ERRORS = (arxiv.ArxivError, requests.RequestException)


def _in_words(error: Exception) -> str:
    """What went wrong, for people: never a host, a port or a library's exception text."""
    if isinstance(error, arxiv.HTTPError):
        return f"answered HTTP {error.status}"
    if isinstance(error, requests.Timeout):
        return "did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "could not be reached"
    if isinstance(error, arxiv.UnexpectedEmptyPageError):
        return "returned an empty page"
    return "answered with something it could not read"


class ArxivApi:
    def __init__(self, *, url: str, delay: float, retries: int, timeout: float) -> None:
        self.client = arxiv.Client(page_size=200, delay_seconds=delay, num_retries=retries)
        self.client.query_url_format = url.rstrip("?") + "?{}"
        self.timeout = timeout
        # The client is synchronous and keeps a shared last-request time: one call at a time.
        self._lock = asyncio.Lock()

    async def _run(self, search: arxiv.Search) -> list[arxiv.Result]:
        async with self._lock:
            try:
                return await asyncio.wait_for(
                    asyncio.to_thread(lambda: list(self.client.results(search))), self.timeout
                )
            except TimeoutError as e:
                raise ArxivUnavailable("The arXiv API timed out.") from e
            except _ERRORS as e:
                log.info("arXiv API request failed: %r", e)
                raise ArxivUnavailable(f"The arXiv API {_in_words(e)}.") from e

    async def lookup(self, ids: list[str]) -> list[Paper]:
        results = await self._run(arxiv.Search(id_list=ids, max_results=len(ids)))
        return [to_paper(r) for r in results]


def to_paper(
    result: arxiv.Result, *, day: dt.date | None = None, requested: set[str] | None = None
) -> Paper:
    pid, version = split_arxiv_id(result.get_short_id())
    primary = result.primary_category or (result.categories[0] if result.categories else "")
    return Paper(
        id=pid,
        version=version or 1,
        title=" ".join(result.title.split()),
        authors=[a.name for a in result.authors],
        abstract=" ".join(result.summary.split()),
        categories=[primary, *[c for c in result.categories if c != primary]],
        primary_category=primary,
        announce_type=classify(pid, primary, requested or {primary}, day),
        comment=result.comment or None,
        announced=day or result.published.date(),
    )
