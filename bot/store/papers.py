"""Papers and the days' listings, with an in-process cache of parsed papers."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterable

import redis.asyncio as redis

from bot.models import Paper
from bot.store import keys as K
from bot.store.base import Concern, _members, _s

__all__ = ["Papers"]

_PAPER_CACHE = 50_000  # parsed papers kept in memory: about a month of a few categories


class Papers(Concern):
    def __init__(self, client: redis.Redis, keys: K.Keys) -> None:
        super().__init__(client, keys)
        self._papers: dict[str, Paper] = {}
        # The last recent_papers() answer, with the (day, size) pairs it was read for.
        self._recent: tuple[tuple[tuple[str, int], ...], list[Paper]] | None = None

    async def put_papers(self, papers: Iterable[Paper]) -> None:
        pipe = self.r.pipeline(transaction=False)
        for p in papers:
            # Compressed: abstracts are most of a paper, and papers the second-largest kind of key.
            pipe.set(
                self.keys.paper(p.id), zlib.compress(p.model_dump_json().encode()), ex=K.PAPER_TTL
            )
            self._remember(p)
        await pipe.execute()

    def _remember(self, paper: Paper) -> None:
        # Every channel's digest and every search re-reads the same few thousand papers; parsing
        # them from JSON each time was most of a digest's CPU. A paper changes only with a new
        # version, which arrives through put_papers here (or at worst a day late elsewhere).
        if len(self._papers) >= _PAPER_CACHE:
            self._papers.clear()
        self._papers[paper.id] = paper

    async def get_paper(self, paper_id: str) -> Paper | None:
        found = await self.get_papers([paper_id])
        return found[0] if found else None

    async def get_papers(self, ids: list[str]) -> list[Paper]:
        missing = [i for i in ids if i not in self._papers]
        if missing:
            raws = await self.r.mget([self.keys.paper(i) for i in missing])
            for raw in raws:
                if isinstance(raw, bytes):  # compressed JSON; None for a paper not stored
                    self._remember(Paper.model_validate_json(zlib.decompress(raw)))
        return [self._papers[i] for i in ids if i in self._papers]

    async def put_listing(self, day: dt.date, categories: list[str], papers: list[Paper]) -> None:
        await self.put_papers(papers)
        pipe = self.r.pipeline(transaction=True)
        pipe.set(
            self.keys.listing(day, categories),
            json.dumps([p.id for p in papers]),
            ex=K.LISTING_TTL,
        )
        pipe.zadd(self.keys.days(), {day.isoformat(): day.toordinal()})
        if papers:
            pipe.sadd(self.keys.day_papers(day), *[p.id for p in papers])
            pipe.expire(self.keys.day_papers(day), K.LISTING_TTL)
        await pipe.execute()

    async def get_listing(self, day: dt.date, categories: list[str]) -> list[Paper] | None:
        raw = await self.r.get(self.keys.listing(day, categories))
        if raw is None:
            return None
        ids = json.loads(raw)
        papers = await self.get_papers(ids)
        return papers if len(papers) == len(ids) else None

    async def known_days(self) -> list[dt.date]:
        days = _members(await self.r.zrange(self.keys.days(), 0, -1))
        return [dt.date.fromisoformat(d) for d in days]

    async def recent_papers(self, *, days: int = 7) -> list[Paper]:
        """Every stored paper of the latest `days` announcement days (for search)."""
        latest = _members(await self.r.zrevrange(self.keys.days(), 0, days - 1))
        if not latest:
            return []
        keys = [self.keys.day_papers(dt.date.fromisoformat(d)) for d in latest]
        pipe = self.r.pipeline(transaction=False)
        for key in keys:
            pipe.scard(key)
        # Reading a week of ids and papers is tens of milliseconds of parsing on the event loop:
        # do it again only when a day was added or grew.
        seen = tuple(zip(latest, await pipe.execute(), strict=True))
        if self._recent is not None and self._recent[0] == seen:
            return self._recent[1]
        ids = await self.r.sunion(keys)
        papers = await self.get_papers(sorted(_s(i) for i in ids))
        self._recent = (seen, papers)
        return papers
