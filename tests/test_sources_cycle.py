"""arXiv's announcement cycle in ET: which day is announced when, and what it holds."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

from bot.sources.cycle import ANNOUNCE_TZ, Cycle

UTC = dt.UTC
CYCLE = Cycle()


def et(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=ANNOUNCE_TZ)


def test_tuesday_holds_the_weekend_from_friday_14_et() -> None:
    # Tuesday 2025-06-10: Fri 06-06 14:00 EDT (18:00 UTC) -> Mon 06-09 14:00 EDT.
    start, end = CYCLE.window(dt.date(2025, 6, 10))
    assert (start, end) == (et(2025, 6, 6, 14), et(2025, 6, 9, 14))
    assert start.astimezone(UTC) == dt.datetime(2025, 6, 6, 18, tzinfo=UTC)
    # Monday's listing: Thu 14:00 -> Fri 14:00, announced Sunday evening.
    assert CYCLE.window(dt.date(2025, 6, 9)) == (et(2025, 6, 5, 14), et(2025, 6, 6, 14))
    assert CYCLE.announced_at(dt.date(2025, 6, 9)) == et(2025, 6, 8, 20)
    assert CYCLE.window(dt.date(2025, 6, 12)) == (et(2025, 6, 10, 14), et(2025, 6, 11, 14))


def test_the_cut_off_follows_daylight_saving_time() -> None:
    # DST ended Sun 2025-11-02: Tuesday 11-04's window opens at 18:00 UTC, closes at 19:00 UTC.
    start, end = CYCLE.window(dt.date(2025, 11, 4))
    assert start.astimezone(UTC) == dt.datetime(2025, 10, 31, 18, tzinfo=UTC)
    assert end.astimezone(UTC) == dt.datetime(2025, 11, 3, 19, tzinfo=UTC)
    # The clocks went back an hour (aware datetimes in one zone subtract as wall time: use UTC).
    assert end.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(days=3, hours=1)
    # Announcements: Sunday 11-02 20:00 EST is 01:00 UTC; the Friday before was 00:00 UTC.
    assert CYCLE.announced_at(dt.date(2025, 11, 3)).astimezone(UTC).hour == 1
    assert CYCLE.announced_at(dt.date(2025, 10, 31)).astimezone(UTC).hour == 0
    # Spring forward (Sun 2026-03-08): Monday's listing is announced at 00:00 UTC again.
    assert CYCLE.announced_at(dt.date(2026, 3, 9)).astimezone(UTC).hour == 0


def test_latest_announced_day_at_an_instant() -> None:
    assert CYCLE.latest(et(2025, 6, 9, 19, 59)) == dt.date(2025, 6, 9)
    assert CYCLE.latest(et(2025, 6, 9, 20, 0)) == dt.date(2025, 6, 10)
    # Friday evening to Sunday 19:59: still Friday's listing.
    for moment in (et(2025, 6, 13, 21), et(2025, 6, 14, 12), et(2025, 6, 15, 19, 59)):
        assert CYCLE.latest(moment) == dt.date(2025, 6, 13)
    assert CYCLE.latest(et(2025, 6, 15, 20)) == dt.date(2025, 6, 16)
    tokyo = dt.datetime(2025, 11, 3, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # 00:30 UTC
    assert CYCLE.latest(tokyo) == dt.date(2025, 10, 31)  # 19:30 EST Sunday: not yet Monday's


def test_a_holiday_skips_one_announcement_and_the_next_carries_it() -> None:
    holiday = dt.date(2025, 7, 4)  # a Friday
    cycle = Cycle.with_holidays([holiday])
    assert not cycle.is_listing_day(holiday)
    assert cycle.latest(et(2025, 7, 3, 21)) == dt.date(2025, 7, 3)
    assert cycle.next(dt.date(2025, 7, 3)) == dt.date(2025, 7, 7)
    assert cycle.previous(dt.date(2025, 7, 7)) == dt.date(2025, 7, 3)
    # Monday 07-07 holds Wed 14:00 -> Fri 14:00: its own day and the holiday's.
    assert cycle.window(dt.date(2025, 7, 7)) == (et(2025, 7, 2, 14), et(2025, 7, 4, 14))
    assert cycle.days(dt.date(2025, 7, 2), dt.date(2025, 7, 8)) == [
        dt.date(2025, 7, 3),
        dt.date(2025, 7, 7),
        dt.date(2025, 7, 8),
    ]


def test_windows_tile_the_week_without_gaps() -> None:
    days = CYCLE.days(dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    for before, after in itertools.pairwise(days):
        assert CYCLE.window(before)[1] == CYCLE.window(after)[0]


def test_a_submission_belongs_to_the_listing_whose_window_holds_it() -> None:
    holding = CYCLE.holding
    assert holding(et(2025, 6, 9, 13, 59)) == dt.date(2025, 6, 10)  # Monday before 14:00: Tue
    assert holding(et(2025, 6, 9, 14)) == dt.date(2025, 6, 11)  # at the cut-off: Wednesday's
    assert holding(et(2025, 6, 6, 15)) == dt.date(2025, 6, 10)  # Friday afternoon: Tuesday's
    assert holding(et(2025, 6, 7, 12)) == dt.date(2025, 6, 10)  # Saturday: Tuesday's
    # A holiday (Thu 06-12) moves its window's papers to Friday's listing.
    assert Cycle.with_holidays([dt.date(2025, 6, 12)]).holding(et(2025, 6, 11, 9)) == dt.date(
        2025, 6, 13
    )
    # In UTC across the DST change: Mon 2025-11-03 18:30 UTC is 13:30 EST, still Tuesday's.
    assert holding(dt.datetime(2025, 11, 3, 18, 30, tzinfo=UTC)) == dt.date(2025, 11, 4)
