"""arXiv's announcement cycle in US Eastern time (zoneinfo, so EST/EDT are never mixed up).

A listing day D (Monday-Friday, not a holiday) is announced at 20:00 ET the evening before
(Sunday for Monday) and holds the submissions received between the 14:00 ET cut-offs of the
previous listing and of its own: Tuesday's runs from Friday 14:00 to Monday 14:00, the weekend.
A holiday skips one announcement; the next listing carries its papers. Pure functions: the
source, the scheduler and the fake arXiv all compute the same days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

__all__ = ["ANNOUNCE_TZ", "Cycle"]

ANNOUNCE_TZ = ZoneInfo("America/New_York")
_ANNOUNCE = dt.time(20, 0)
_CUTOFF = dt.time(14, 0)
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Cycle:
    """The cycle with arXiv's published holidays (listing days without an announcement)."""

    holidays: frozenset[dt.date] = frozenset()

    @classmethod
    def with_holidays(cls, days: Iterable[dt.date]) -> Cycle:
        return cls(frozenset(days))

    def is_listing_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def announced_at(self, day: dt.date) -> dt.datetime:
        """20:00 ET on the evening before listing `day` (an aware datetime in ET)."""
        return dt.datetime.combine(day - _DAY, _ANNOUNCE, tzinfo=ANNOUNCE_TZ)

    def previous(self, day: dt.date) -> dt.date:
        """The listing day before `day`."""
        day -= _DAY
        while not self.is_listing_day(day):
            day -= _DAY
        return day

    def next(self, day: dt.date) -> dt.date:
        """The listing day after `day`."""
        day += _DAY
        while not self.is_listing_day(day):
            day += _DAY
        return day

    def latest(self, now: dt.datetime) -> dt.date:
        """The newest listing day already announced at `now` (an aware datetime)."""
        day = now.astimezone(ANNOUNCE_TZ).date() + _DAY
        while not self.is_listing_day(day) or self.announced_at(day) > now:
            day -= _DAY
        return day

    def days(self, after: dt.date, until: dt.date) -> list[dt.date]:
        """Listing days in (after, until], oldest first."""
        out, day = [], after + _DAY
        while day <= until:
            if self.is_listing_day(day):
                out.append(day)
            day += _DAY
        return out

    def holding(self, submitted: dt.datetime) -> dt.date:
        """The listing day whose submission window holds `submitted` (an aware datetime)."""
        day = submitted.astimezone(ANNOUNCE_TZ).date()
        while not self.is_listing_day(day) or self._cutoff(day) <= submitted:
            day += _DAY
        return day

    def _cutoff(self, day: dt.date) -> dt.datetime:
        """The 14:00 ET cut-off that closes listing `day`: on the last weekday before it."""
        closing = day - _DAY
        while closing.weekday() >= 5:
            closing -= _DAY
        return dt.datetime.combine(closing, _CUTOFF, tzinfo=ANNOUNCE_TZ)

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of the submissions listing `day` holds, in ET: the export API's only
        handle on a day (moderation can still move a paper to a later day)."""
        return self._cutoff(self.previous(day)), self._cutoff(day)
