"""arXiv's announcement calendar and the per-channel schedule time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.models import ChannelConfig
from bot.schedule.calendar import announcement_days, latest_announcement
from bot.schedule.jobs import due_at

ET = ZoneInfo("America/New_York")


def at(y: int, m: int, d: int, h: int, mi: int = 0, tz: dt.tzinfo = ET) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=tz)


def test_listing_is_public_from_20h_eastern_the_evening_before() -> None:
    # Monday 2025-06-09 19:59 ET: Monday's listing (announced Sunday evening) is the latest.
    assert latest_announcement(at(2025, 6, 9, 19, 59)) == dt.date(2025, 6, 9)
    # Monday 20:00 ET: Tuesday's listing is out.
    assert latest_announcement(at(2025, 6, 9, 20, 0)) == dt.date(2025, 6, 10)
    # A channel in Paris at 09:00 Tuesday gets Tuesday's listing (announced 02:00 Paris time).
    assert latest_announcement(at(2025, 6, 10, 9, tz=ZoneInfo("Europe/Paris"))) == dt.date(
        2025, 6, 10
    )


def test_weekends_keep_fridays_listing() -> None:
    friday = dt.date(2025, 6, 13)
    for moment in (at(2025, 6, 13, 12), at(2025, 6, 14, 12), at(2025, 6, 15, 19)):
        assert latest_announcement(moment) == friday
    assert latest_announcement(at(2025, 6, 15, 20)) == dt.date(2025, 6, 16)


def test_missed_days_skip_weekends() -> None:
    assert announcement_days(dt.date(2025, 6, 12), dt.date(2025, 6, 17)) == [
        dt.date(2025, 6, 13),
        dt.date(2025, 6, 16),
        dt.date(2025, 6, 17),
    ]


def test_a_listing_is_due_at_the_first_schedule_time_after_its_announcement() -> None:
    """Tuesday's listing is announced Monday 20:00 New York time (Tuesday 09:00 in Tokyo)."""
    tuesday = dt.date(2025, 6, 10)

    def due(zone: str, time: str = "08:30") -> dt.datetime:
        config = ChannelConfig(id="slack:C1", schedule_time=time, timezone=zone)
        return due_at(config, tuesday)

    # New York: Tuesday morning, not Monday evening right after the announcement.
    assert due("America/New_York") == at(2025, 6, 10, 8, 30)
    assert due("Europe/Paris") == at(2025, 6, 10, 8, 30, tz=ZoneInfo("Europe/Paris"))
    # Tokyo at 08:30 comes before Tuesday's 09:00 announcement: Wednesday 08:30.
    assert due("Asia/Tokyo") == at(2025, 6, 11, 8, 30, tz=ZoneInfo("Asia/Tokyo"))
    # ...and at 09:00 exactly, the moment it is announced.
    assert due("Asia/Tokyo", "09:00") == at(2025, 6, 10, 9, 0, tz=ZoneInfo("Asia/Tokyo"))
