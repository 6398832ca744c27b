"""arXiv's announcement calendar and the per-channel schedule time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.models import ChannelConfig
from bot.schedule.calendar import announcement_days, latest_announcement
from bot.schedule.jobs import scheduled_today

ET = ZoneInfo("America/New_York")


def at(y, m, d, h, mi=0, tz=ET) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=tz)


def test_listing_is_public_from_20h_eastern_the_evening_before():
    # Monday 2025-06-09 19:59 ET: Monday's listing (announced Sunday evening) is the latest.
    assert latest_announcement(at(2025, 6, 9, 19, 59)) == dt.date(2025, 6, 9)
    # Monday 20:00 ET: Tuesday's listing is out.
    assert latest_announcement(at(2025, 6, 9, 20, 0)) == dt.date(2025, 6, 10)
    # A channel in Paris at 09:00 Tuesday gets Tuesday's listing (announced 02:00 Paris time).
    assert latest_announcement(at(2025, 6, 10, 9, tz=ZoneInfo("Europe/Paris"))) == dt.date(
        2025, 6, 10
    )


def test_weekends_keep_fridays_listing():
    friday = dt.date(2025, 6, 13)
    for moment in (at(2025, 6, 13, 12), at(2025, 6, 14, 12), at(2025, 6, 15, 19)):
        assert latest_announcement(moment) == friday
    assert latest_announcement(at(2025, 6, 15, 20)) == dt.date(2025, 6, 16)


def test_missed_days_skip_weekends():
    assert announcement_days(dt.date(2025, 6, 12), dt.date(2025, 6, 17)) == [
        dt.date(2025, 6, 13),
        dt.date(2025, 6, 16),
        dt.date(2025, 6, 17),
    ]


def test_schedule_time_is_in_the_channels_time_zone():
    config = ChannelConfig(id="slack:C1", schedule_time="08:30", timezone="Asia/Tokyo")
    now = dt.datetime(2025, 6, 10, 0, 0, tzinfo=dt.UTC)  # 09:00 in Tokyo
    when = scheduled_today(config, now)
    assert when.hour == 8 and when.minute == 30 and when <= now
