"""arXiv's announcement calendar for the scheduler: listings dated Monday-Friday, each announced
at 20:00 US Eastern the evening before. The cycle itself (cut-offs, windows, holidays) lives in
bot/sources/cycle.py; these are its answers without holidays, which the source says instead
(a holiday's listing is an empty one, "no announcement")."""

from __future__ import annotations

import datetime as dt

from bot.sources.cycle import ANNOUNCE_TZ, Cycle

__all__ = [
    "ANNOUNCE_TZ",
    "announced_at",
    "announcement_days",
    "latest_announcement",
    "no_announcement",
]

_CYCLE = Cycle()


def announced_at(day: dt.date) -> dt.datetime:
    """When the listing dated `day` became public."""
    return _CYCLE.announced_at(day)


def latest_announcement(now: dt.datetime) -> dt.date:
    """The newest listing day already announced at `now` (an aware datetime)."""
    return _CYCLE.latest(now)


def announcement_days(after: dt.date, until: dt.date) -> list[dt.date]:
    """Listing days in (after, until], oldest first."""
    return _CYCLE.days(after, until)


def no_announcement(day: dt.date) -> str:
    """What a channel is told of a weekday arXiv confirmed empty: the source returns one only
    when its interfaces agree that arXiv did not announce (a holiday)."""
    if day.weekday() >= 5:
        return "Nothing new on arXiv today."
    return f"arXiv did not announce on {day:%a %d %b %Y} (holiday)."
