"""arXiv with a clock the test controls: the fake keeps arXiv's real hours (arxiv-timeline.md).

    world = ArxivWorld(week, start=dt.datetime(2025, 6, 8, 19, tzinfo=NY))
    async with world:
        world.advance(hours=1)   # Sunday 20:00 ET: the listing pages turn to Monday's listing

- `/list/CAT/new` turns to listing D at 20:00 ET the evening before D (zoneinfo, so the DST
  change moves it in UTC); `/list/CAT/recent` shows the last five announced days;
- the RSS feed is rebuilt at midnight ET: on date X it holds the listing dated X, or nothing
  (weekends, holidays); a category in `stale` keeps the feed of the day it froze on;
- the export API's index lags each announcement by `api_lag`;
- a day in `late` reaches the pages that much after 20:00 ET (a delayed announcement), a
  (day, category) key there only that category's pages;
- a holiday is a weekday missing from `days`: no announcement, the next listing carries it;
- each paper's submission time lies in its listing's real window (14:00 ET cut-offs: Tuesday's
  runs from Friday 14:00), spread at random (seeded);
- OAI-PMH holds a record once its listing is announced, stamped with its listing day (a day in
  `restamped` once that day has come); `held` moves every held-th paper's submission into the
  window before its listing's (moderation held it back a day);
- `burst(prefix, n, retry_after)` answers the next n requests with 429 and that Retry-After.

It computes arXiv's hours itself (not with the bot's calendar), so a bug there shows.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.fakes.arxiv_server import FakeArxiv

NY = ZoneInfo("America/New_York")


def announced(day: dt.date) -> dt.datetime:
    """20:00 New York time on the evening before listing `day`."""
    return dt.datetime.combine(day - dt.timedelta(days=1), dt.time(20), tzinfo=NY)


def cutoff(day: dt.date) -> dt.datetime:
    """14:00 New York time on the last weekday before listing `day`."""
    before = day - dt.timedelta(days=1)
    while before.weekday() >= 5:
        before -= dt.timedelta(days=1)
    return dt.datetime.combine(before, dt.time(14), tzinfo=NY)


def unique_days(days: dict[dt.date, list[dict[str, Any]]]) -> dict[dt.date, list[dict[str, Any]]]:
    """Each paper on the first day it appears, once (real dumps repeat papers across lists)."""
    seen: set[str] = set()
    out: dict[dt.date, list[dict[str, Any]]] = {}
    for day in sorted(days):
        out[day] = []
        for row in days[day]:
            if row["id"] not in seen:
                seen.add(row["id"])
                out[day].append(row)
    return out


class ArxivWorld(FakeArxiv):
    def __init__(
        self,
        days: dict[dt.date, list[dict[str, Any]]],
        *,
        start: dt.datetime,
        api_lag: dt.timedelta = dt.timedelta(hours=4),
        stale: dict[str, dt.date] | None = None,
        late: dict[dt.date | tuple[dt.date, str], dt.timedelta] | None = None,
        held: int = 0,
        seed: int = 14,
    ) -> None:
        days = unique_days(days)
        super().__init__(days, today=start.astimezone(NY).date())
        self.now = start
        self.api_lag = api_lag
        self.stale = dict(stale or {})
        self.late = dict(late or {})
        rng = random.Random(seed)
        order = sorted(days)
        for i, day in enumerate(order):
            # After a holiday (a weekday gap) this listing carries the skipped day's papers too.
            begin = cutoff(order[i - 1]) if i else cutoff(day) - dt.timedelta(days=1)
            end = cutoff(day)
            for j, row in enumerate(days[day]):
                paper = self._papers[row["id"]]
                moment = begin + (end - begin) * rng.random()
                if held and i and j % held == 0:  # in the window before; moderation held it
                    moment = begin - dt.timedelta(hours=1)
                paper.published = paper.updated = moment.astimezone(dt.UTC)

    def clock(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now

    def shown_at(self, day: dt.date, cat: str | None = None) -> dt.datetime:
        """When listing `day` reaches the pages (of `cat`): 20:00 ET, later when in `late`."""
        return announced(day) + self.late.get((day, cat or ""), self.late.get(day, dt.timedelta()))

    def announced_days(self, cat: str | None = None) -> list[dt.date]:
        return sorted(d for d in self._days if self.shown_at(d, cat) <= self.now)

    def list_day(self, cat: str | None = None) -> dt.date:
        shown = self.announced_days(cat)
        if shown:
            return shown[-1]
        day = self.now.astimezone(NY).date()  # before the first day: an empty earlier weekday
        while day.weekday() >= 5 or announced(day) > self.now:
            day -= dt.timedelta(days=1)
        return day

    def listing_days(self, cat: str | None = None) -> list[dt.date]:
        return self.announced_days(cat)[::-1][:5]

    def api_papers(self) -> dict[str, Any]:
        return {
            pid: p
            for pid, p in self._papers.items()
            if self.shown_at(p.listed) + self.api_lag <= self.now
        }

    def oai_stamps(self) -> dict[str, dt.date]:
        today = self.now.astimezone(dt.UTC).date()
        out = {}
        for pid, paper in self._papers.items():
            if self.shown_at(paper.listed) <= self.now:
                later = self.restamped.get(pid)
                out[pid] = later if later and later <= today else paper.listed
        return out

    def rss_day(self, query: str) -> dt.date:
        frozen = [d for cat, d in self.stale.items() if cat in query.split("+")]
        return min(frozen) if frozen else self.now.astimezone(NY).date()

    async def _h_rss(self, request: web.Request) -> web.Response:
        self.today = self.rss_day(request.match_info["cats"])  # read synchronously by the handler
        return await super()._h_rss(request)

    def burst(self, prefix: str, n: int, retry_after: float) -> None:
        self.retry_after = str(retry_after)
        self.fail_next(prefix, *[429] * n)

    def announced_ids(self, day: dt.date, categories: list[str]) -> set[str]:
        """What arXiv announced on `day` for `categories` (new, cross-lists and replacements)."""
        wanted = set(categories)
        return {r["id"] for r in self._days.get(day, []) if wanted & set(r["categories"])}


def real_days(*targets: dt.date) -> dict[dt.date, list[dict[str, Any]]]:
    """The bundled real days' papers (each once), moved onto `targets`: a Monday listing first,
    then the others in date order."""
    from bot.sources.bundled import bundled_days, load_rows

    order = [dt.date(2025, 6, 2), *(d for d in bundled_days() if d != dt.date(2025, 6, 2))]
    rows = unique_days({d: load_rows(d) for d in order})
    return {t: rows[d] for t, d in zip(targets, order, strict=False)}


def world_settings(world: ArxivWorld, **extra: object) -> dict[str, object]:
    """The `arxiv` settings section pointed at the world: no pacing (the clock is fake)."""
    return {
        "rss_url": f"{world.base_url}/rss",
        "api_url": f"{world.base_url}/api/query",
        "list_url": f"{world.base_url}/list",
        "oai_url": f"{world.base_url}/oai",
        "html_url": f"{world.base_url}/html",
        "abs_url": f"{world.base_url}/abs",
        "delay_seconds": 0,
        "retries": 2,
        "timeout_seconds": 2,
        "backoff_seconds": 0.01,
        "contact": "ops@example.org",
        **extra,
    }
