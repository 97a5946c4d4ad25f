"""`wellbeing-bot checkins …` and `wellbeing-bot schedule`: run and watch check-in cycles by hand."""

from __future__ import annotations

import argparse
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import select

from bot.cards import render_card
from bot.cli.common import CliError, iso_date, with_services
from bot.console import CardRenderer
from core.context import Services
from core.store.cycles import Cycle
from dialogs import checkin
from scheduler import cadence, checkins


async def cycle_to_preview(services: Services, now: datetime, wanted: date | None) -> date:
    """`wanted` if it is a day check-ins go out on; else the next cycle not sent yet: today's
    if it has not gone out, else the next (so a preview on Sunday shows Wednesday's card)."""
    schedule, org_tz = services.org.checkin.schedule, services.org.organisation.timezone
    if wanted is not None:
        if wanted.strftime("%A").lower() != schedule.weekday:
            raise CliError(
                f"{wanted:%Y-%m-%d} is a {wanted:%A}; check-ins go out on "
                f"{schedule.weekday.title()}s"
            )
        return wanted
    current = cadence.current_cycle_date(now, schedule, org_tz)
    today = now.astimezone(cadence.zone(None, org_tz)).date()
    candidates = [day for day in [current] if day and day >= today]
    candidates += cadence.next_cycle_dates(now, schedule, 2)
    async with services.sessions() as session:
        started = set(
            (
                await session.exec(
                    select(Cycle.scheduled_for).where(Cycle.scheduled_for.in_(candidates))
                )
            ).all()
        )
    return next(day for day in candidates if day not in started)


def preview_card(services: Services, scheduled_for: date) -> tuple[dict[str, Any], str]:
    """The card of the cycle on `scheduled_for` (as people will get it) and its calendar note."""
    week = scheduled_for.isocalendar().week
    note = services.org.checkin.note_for(week)
    card = checkin.checkin_card(
        services.org.checkin.questions,
        card_id=uuid.uuid4().hex,
        cycle_id=0,
        iso_week=week,
        note=note,
    )
    heading = f"Wellbeing Wednesday for {scheduled_for:%A %-d %B %Y} (week {week})"
    return render_card(card), heading


def cmd_preview(args: argparse.Namespace) -> None:
    """Show a cycle's card and note as text and JSON: the next one not sent yet, or `--date`."""

    async def work(services: Services) -> None:
        scheduled_for = await cycle_to_preview(services, services.clock(), args.date)
        rendered, heading = preview_card(services, scheduled_for)
        if not args.json_only:
            print(heading)
            print("=" * len(heading))
            view = CardRenderer().render(rendered)
            print("\n".join(view.lines))
            print()
        if not args.text_only:
            print(json.dumps(rendered, indent=2, ensure_ascii=False))

    with_services(work, args.clock)


def cmd_send(args: argparse.Namespace) -> None:
    """Queue the current cycle now, for everyone (or one team) who has not had it."""

    async def work(services: Services) -> None:
        now = services.clock()
        schedule, org_tz = services.org.checkin.schedule, services.org.organisation.timezone
        scheduled_for = cadence.current_cycle_date(now, schedule, org_tz)
        if scheduled_for is None:
            raise CliError(
                "no cycle is open now; the next one is "
                f"{cadence.next_cycle_dates(now, schedule, 1)[0]}"
            )
        report = await checkins.open_cycle(
            services, scheduled_for, now, team=args.team, immediate=True
        )
        print(
            f"Cycle {report.scheduled_for}: queued {report.queued} check-in(s); "
            f"{report.already_had_it} already had this cycle's; "
            f"{report.skipped_paused_or_stopped} paused or stopped."
        )
        if report.queued:
            print(
                "The running bot sends them now, paced to Teams' limits. "
                "Watch with: wellbeing-bot checkins status"
            )

    with_services(work, args.clock)


def _admin(action: Callable[[Services, str | None, datetime], Awaitable[int]], done: str):
    def command(args: argparse.Namespace) -> None:
        async def work(services: Services) -> None:
            count = await action(services, args.cycle, services.clock())
            print(done.format(count=count))

        with_services(work, args.clock)

    return command


def cmd_status(args: argparse.Namespace) -> None:
    """Queued, sent, retrying, failed, unreachable, blocked and answered counts for a cycle."""

    async def work(services: Services) -> None:
        cycle, counts = await checkins.delivery_counts(services, args.cycle, services.clock())
        print(
            f"Cycle {cycle.scheduled_for} ({cycle.status}; closes {cycle.closes_at:%a %-d %b %H:%M} UTC)"
        )
        for key in (
            "people",
            "queued",
            "sending",
            "retrying",
            "held",
            "sent",
            "failed",
            "unreachable",
            "blocked",
            "aborted",
            "answered",
        ):
            print(f"  {key:<12}{counts.get(key, 0):>8}")
        reminders = {k: v for k, v in counts.items() if k.startswith("reminders ")}
        for key, value in sorted(reminders.items()):
            print(f"  {key:<20}{value:>8}")

    with_services(work, args.clock)


def cmd_schedule(args: argparse.Namespace) -> None:
    """Print the next cycles: delivery, reminder and close times in the organisation's zone."""

    async def work(services: Services) -> None:
        schedule, org_tz = services.org.checkin.schedule, services.org.organisation.timezone
        now = services.clock()
        zone = cadence.zone(None, org_tz)
        current = cadence.current_cycle_date(now, schedule, org_tz)
        dates = ([current] if current else []) + cadence.next_cycle_dates(now, schedule, args.count)
        print(
            f"Check-ins go out {schedule.weekday.title()} at {schedule.time:%H:%M} "
            f"({'each person’s own time zone' if schedule.use_person_timezone else org_tz})."
        )
        for day in dates[: args.count]:
            times = cadence.cycle_times(day, schedule, org_tz)
            delivery = cadence.due_at(day, schedule, org_tz, None).astimezone(zone)
            reminder = cadence.reminder_at(delivery, schedule, org_tz, None)
            note = services.org.checkin.note_for(day.isocalendar().week)
            print(
                f"- {day:%a %-d %b %Y}: delivery {delivery:%a %H:%M %Z}"
                + (f", reminder {reminder.astimezone(zone):%a %H:%M}" if reminder else "")
                + f", closes {times.closes_at.astimezone(zone):%a %-d %b %H:%M}"
                + (f" — note: {note.title}" if note else "")
                + (" (open now)" if day == current else "")
            )

    with_services(work, args.clock)


def register(commands: argparse._SubParsersAction) -> None:
    """Add the check-in commands to the main parser."""
    group = commands.add_parser(
        "checkins", help="preview, send, hold, release, abort or watch check-ins"
    )
    actions = group.add_subparsers(dest="checkins_command", metavar="ACTION", required=True)

    preview = actions.add_parser(
        "preview",
        help="show a cycle's card and note as text and JSON (default: the next one not sent yet)",
    )
    preview.add_argument(
        "--date",
        type=iso_date,
        help="the cycle's scheduled day, YYYY-MM-DD (default: the next cycle not sent yet)",
    )
    only = preview.add_mutually_exclusive_group()
    only.add_argument("--text", dest="text_only", action="store_true", help="text only")
    only.add_argument("--json", dest="json_only", action="store_true", help="JSON only")
    preview.set_defaults(func=cmd_preview)

    send = actions.add_parser("send", help="send the current cycle now (quiet hours do not apply)")
    send.add_argument("--team", help="only this team (name, AAD group id or Teams id)")
    send.set_defaults(func=cmd_send)

    for name, action, done, help_text in (
        (
            "hold",
            checkins.hold,
            "Held: {count} unsent check-in(s) wait until you release the cycle.",
            "stop a cycle mid-send (what is unsent waits)",
        ),
        (
            "release",
            checkins.release,
            "Released: {count} check-in(s) go out again now.",
            "pick a held cycle up again",
        ),
        (
            "abort",
            checkins.abort,
            "Aborted: {count} unsent check-in(s) dropped; answers already given still count.",
            "drop what is left of a cycle",
        ),
    ):
        sub = actions.add_parser(name, help=help_text)
        sub.add_argument(
            "cycle", nargs="?", help="the cycle's date, YYYY-MM-DD (default: the current one)"
        )
        sub.set_defaults(func=_admin(action, done))

    status = actions.add_parser("status", help="delivery and answer counts for a cycle")
    status.add_argument(
        "cycle", nargs="?", help="the cycle's date, YYYY-MM-DD (default: the current one)"
    )
    status.set_defaults(func=cmd_status)

    schedule = commands.add_parser("schedule", help="print the next check-in cycles")
    schedule.add_argument("--count", type=int, default=4, help="how many cycles (default 4)")
    schedule.set_defaults(func=cmd_schedule)
