"""Delivery times: the person's own time zone, daylight-saving changes, quiet hours and
non-working days, with a controlled clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from core.config.checkinconfig import Schedule
from scheduler import cadence

LONDON = "Europe/London"
WED = date(2026, 11, 25)  # a Wednesday in GMT
WED_BST = date(2027, 3, 31)  # the Wednesday after UK clocks go forward (28 March 2027)


@pytest.mark.parametrize(
    ("day", "person_tz", "expected"),
    [
        (WED, None, datetime(2026, 11, 25, 10, 0, tzinfo=UTC)),
        (WED, "Europe/London", datetime(2026, 11, 25, 10, 0, tzinfo=UTC)),
        (WED, "America/New_York", datetime(2026, 11, 25, 15, 0, tzinfo=UTC)),
        (WED, "Asia/Tokyo", datetime(2026, 11, 25, 1, 0, tzinfo=UTC)),
        (WED, "Not/AZone", datetime(2026, 11, 25, 10, 0, tzinfo=UTC)),
        (WED_BST, "Europe/London", datetime(2027, 3, 31, 9, 0, tzinfo=UTC)),
        (WED_BST, "America/New_York", datetime(2027, 3, 31, 14, 0, tzinfo=UTC)),
    ],
)
def test_due_at_is_ten_oclock_local_across_zones_and_daylight_saving(day, person_tz, expected):
    assert cadence.due_at(day, Schedule(), LONDON, person_tz) == expected


def test_the_organisations_zone_is_used_when_person_zones_are_off():
    schedule = Schedule(use_person_timezone=False)
    assert cadence.due_at(WED, schedule, LONDON, "Asia/Tokyo") == datetime(
        2026, 11, 25, 10, tzinfo=UTC
    )


def test_quiet_hours_move_delivery_to_their_end():
    schedule = Schedule(time=time(21, 30))
    assert cadence.due_at(WED, schedule, LONDON, None) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    early = Schedule(time=time(6, 0))
    assert cadence.due_at(WED, early, LONDON, None) == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def test_non_working_days_move_delivery_to_the_next_working_day():
    schedule = Schedule(non_working_days=[WED, date(2026, 11, 26)])
    assert cadence.due_at(WED, schedule, LONDON, None) == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_reminder_comes_a_day_later_unless_switched_off():
    due = cadence.due_at(WED, Schedule(), LONDON, None)
    assert cadence.reminder_at(due, Schedule(), LONDON, None) == datetime(
        2026, 11, 26, 10, tzinfo=UTC
    )
    assert cadence.reminder_at(due, Schedule(reminder_after_hours=None), LONDON, None) is None
    late = Schedule(reminder_after_hours=11)  # 21:00 falls in quiet hours: next morning
    assert cadence.reminder_at(due, late, LONDON, None) == datetime(2026, 11, 26, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 24, 9, 59, tzinfo=UTC), date(2026, 11, 18)),  # last week still open
        (datetime(2026, 11, 24, 10, 0, tzinfo=UTC), WED),  # Wednesday has begun in UTC+14
        (datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC), WED),
        (datetime(2026, 12, 1, 9, 59, tzinfo=UTC), WED),  # open until six days after delivery
        (datetime(2026, 12, 1, 10, 0, tzinfo=UTC), date(2026, 12, 2)),  # next one has begun
        (datetime(2026, 11, 27, 12, 0, tzinfo=UTC), WED),
    ],
)
def test_the_current_cycle(now, expected):
    assert cadence.current_cycle_date(now, Schedule(), LONDON) == expected


def test_a_short_window_leaves_gaps_with_no_cycle_open():
    schedule = Schedule(close_after_days=2, reminder_after_hours=24)
    assert (
        cadence.current_cycle_date(datetime(2026, 11, 28, 12, tzinfo=UTC), schedule, LONDON) is None
    )


def test_next_cycle_dates():
    assert cadence.next_cycle_dates(datetime(2026, 11, 25, 12, tzinfo=UTC), Schedule(), 2) == [
        date(2026, 12, 2),
        date(2026, 12, 9),
    ]


def test_config_refuses_half_set_quiet_hours_and_late_reminders():
    with pytest.raises(ValueError, match="quiet_hours"):
        Schedule(quiet_hours_start=time(20), quiet_hours_end=None)
    with pytest.raises(ValueError, match="reminder"):
        Schedule(close_after_days=1, reminder_after_hours=30)
