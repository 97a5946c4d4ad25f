"""When a cycle opens, when each person's check-in is due, the reminder, and the close.

Pure functions of the schedule and a clock, so time zones and daylight-saving changes can be
tested with a controlled clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.config.checkinconfig import WEEKDAYS, Schedule

# A cycle opens when its date has begun anywhere on Earth (UTC+14), so that people in every time
# zone can be queued ahead of their own local delivery time.
EARLIEST_OFFSET = timedelta(hours=14)


@dataclass(frozen=True)
class CycleTimes:
    """The fixed instants of one cycle, in UTC."""

    scheduled_for: date
    opens_at: datetime
    reminders_at: datetime
    closes_at: datetime


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """A person's time zone when Teams told us a valid one, otherwise the organisation's."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(fallback)


def opens_at(scheduled_for: date) -> datetime:
    return datetime.combine(scheduled_for, time(0), tzinfo=UTC) - EARLIEST_OFFSET


def cycle_times(scheduled_for: date, schedule: Schedule, org_timezone: str) -> CycleTimes:
    org = ZoneInfo(org_timezone)
    delivery = datetime.combine(scheduled_for, schedule.time, tzinfo=org).astimezone(UTC)
    reminders = delivery + timedelta(hours=schedule.reminder_after_hours or 0)
    return CycleTimes(
        scheduled_for=scheduled_for,
        opens_at=opens_at(scheduled_for),
        reminders_at=reminders,
        closes_at=delivery + timedelta(days=schedule.close_after_days),
    )


def current_cycle_date(now: datetime, schedule: Schedule, org_timezone: str) -> date | None:
    """The cycle that should be open at `now`: opened already and not yet closed, else None."""
    weekday = WEEKDAYS.index(schedule.weekday)
    candidate = (now + EARLIEST_OFFSET).date()
    candidate -= timedelta(days=(candidate.weekday() - weekday) % 7)
    if now < cycle_times(candidate, schedule, org_timezone).closes_at:
        return candidate
    return None


def next_cycle_dates(now: datetime, schedule: Schedule, count: int) -> list[date]:
    """The scheduled dates of the next `count` cycles that have not opened yet."""
    weekday = WEEKDAYS.index(schedule.weekday)
    first = (now + EARLIEST_OFFSET).date() + timedelta(days=1)
    first += timedelta(days=(weekday - first.weekday()) % 7)
    return [first + timedelta(weeks=i) for i in range(count)]


def _out_of_quiet_hours(local: datetime, schedule: Schedule) -> datetime:
    start, end = schedule.quiet_hours_start, schedule.quiet_hours_end
    if start is None or end is None:
        return local
    clock = local.time()
    if start <= end:
        quiet = start <= clock < end
        resume_day = local.date()
    else:  # crosses midnight, e.g. 20:00 to 08:00
        quiet = clock >= start or clock < end
        resume_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not quiet:
        return local
    return datetime.combine(resume_day, end, tzinfo=local.tzinfo)


def _on_working_day(local: datetime, schedule: Schedule) -> datetime:
    moved = local
    while moved.date() in schedule.non_working_days:
        moved = datetime.combine(
            moved.date() + timedelta(days=1), schedule.time, tzinfo=local.tzinfo
        )
    return moved


def deliver_at(local: datetime, schedule: Schedule) -> datetime:
    """Shift a wished-for local time past non-working days and quiet hours; returns UTC."""
    for _ in range(len(schedule.non_working_days) + 2):
        shifted = _out_of_quiet_hours(_on_working_day(local, schedule), schedule)
        if shifted == local:
            break
        local = shifted
    return local.astimezone(UTC)


def due_at(
    scheduled_for: date, schedule: Schedule, org_timezone: str, person_timezone: str | None
) -> datetime:
    """When one person's check-in should arrive, in UTC."""
    tz = zone(person_timezone if schedule.use_person_timezone else None, org_timezone)
    return deliver_at(datetime.combine(scheduled_for, schedule.time, tzinfo=tz), schedule)


def reminder_at(
    first_due: datetime, schedule: Schedule, org_timezone: str, person_timezone: str | None
) -> datetime | None:
    """When the one gentle reminder goes, or None when reminders are off."""
    if schedule.reminder_after_hours is None:
        return None
    tz = zone(person_timezone if schedule.use_person_timezone else None, org_timezone)
    local = (first_due + timedelta(hours=schedule.reminder_after_hours)).astimezone(tz)
    return deliver_at(local, schedule)
