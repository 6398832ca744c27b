"""arXiv's announcement calendar: listings dated Monday-Friday, each announced at 20:00 US Eastern
the evening before (Sunday-Thursday). Holidays show up as empty feeds, handled downstream."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["ANNOUNCE_TZ", "announced_at", "announcement_days", "latest_announcement"]

ANNOUNCE_TZ = ZoneInfo("America/New_York")
_ANNOUNCE_TIME = dt.time(20, 0)


def announced_at(day: dt.date) -> dt.datetime:
    """When the listing dated `day` became public."""
    return dt.datetime.combine(day - dt.timedelta(days=1), _ANNOUNCE_TIME, tzinfo=ANNOUNCE_TZ)


def latest_announcement(now: dt.datetime) -> dt.date:
    """The newest listing day already announced at `now` (an aware datetime)."""
    day = now.astimezone(ANNOUNCE_TZ).date() + dt.timedelta(days=1)
    while day.weekday() >= 5 or announced_at(day) > now:
        day -= dt.timedelta(days=1)
    return day


def announcement_days(after: dt.date, until: dt.date) -> list[dt.date]:
    """Listing days in (after, until], oldest first."""
    days, day = [], after + dt.timedelta(days=1)
    while day <= until:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days
