"""Wellbeing Wednesday cycles: open the week's cycle, queue each person's check-in for their own
local time, send one gentle reminder, and close the cycle. The cycle rows are the persisted truth,
so a restart (or a second replica) catches up without sending anything twice."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.config.orgimport import org_teams
from core.context import Services
from core.db import upsert_insert
from core.events import PersonalChat, Reply
from core.store.cycles import (
    CLOSED,
    CYCLE_ABORTED,
    CYCLE_HELD,
    OPEN,
    Cycle,
    CycleRecipient,
    cycle_counts,
)
from core.store.directory import add_members, remember_person, remove_members, resolve_person
from core.store.models import Conversation, Participation, Person, Team, TeamMember
from core.store.outbox import (
    ABORTED,
    DELIVERED_PAYLOAD,
    FAILED,
    HELD,
    PENDING_STATES,
    SENDING,
    SENT,
    UNREACHABLE,
    OutboxMessage,
    enqueue_reply,
)
from dialogs import checkin
from dialogs.participation import is_active
from scheduler import cadence, digests

log = logging.getLogger(__name__)

FIRST_MESSAGE = (
    "You're getting this because {org} has set up a short weekly wellbeing check-in for your "
    "team. It's optional and private: your manager never sees your answers. Say **stop** if you'd "
    "rather not get these, or **help** to see what I can do."
)


class CycleError(Exception):
    """An admin action that cannot be done (no such cycle, wrong state); the message says why."""


@dataclass(frozen=True)
class OpenReport:
    """What opening (or re-sending) a cycle did."""

    cycle_id: int
    scheduled_for: date
    queued: int
    already_had_it: int
    skipped_paused_or_stopped: int


async def enrolled_team_ids(
    session: AsyncSession, services: Services, teams: list[Team]
) -> list[str]:
    """Teams enrolled by config or HR import (AAD group id), or by an admin in Teams."""
    configured = {t.id for t in await org_teams(session, services.org) if t.enrolled}
    return [t.id for t in teams if t.enrolled or (t.aad_group_id or "") in configured]


def _team_matches(team: Team, wanted: str) -> bool:
    wanted = wanted.strip().lower()
    return wanted in {team.id.lower(), (team.aad_group_id or "").lower(), (team.name or "").lower()}


async def recipients(
    session: AsyncSession, services: Services, now: datetime, team: str | None = None
) -> tuple[list[Person], int]:
    """Everyone due a check-in (personal installs plus members of enrolled teams), minus people
    who paused, stopped or cannot be reached. Returns them and how many were left out by choice."""
    teams = list((await session.exec(select(Team))).all())
    if team is not None:
        chosen = [t.id for t in teams if _team_matches(t, team)]
        if not chosen:
            raise CycleError(f"no team called {team!r} has the bot installed")
        member_ids = set(
            (
                await session.exec(
                    select(TeamMember.aad_object_id).where(TeamMember.team_id.in_(chosen))
                )
            ).all()
        )
        people = (
            await session.exec(select(Person).where(Person.aad_object_id.in_(member_ids)))
        ).all()
    else:
        enrolled = await enrolled_team_ids(session, services, teams)
        member_ids = (
            set(
                (
                    await session.exec(
                        select(TeamMember.aad_object_id).where(TeamMember.team_id.in_(enrolled))
                    )
                ).all()
            )
            if enrolled
            else set()
        )
        people = (
            await session.exec(
                select(Person).where(
                    Person.personal_installed.is_(True) | Person.aad_object_id.in_(member_ids)
                )
            )
        ).all()
    choices = {p.aad_object_id: p for p in (await session.exec(select(Participation))).all()}
    due, declined = [], 0
    for person in people:
        if person.unreachable_since is not None:
            continue
        choice = choices.get(person.aad_object_id)
        if choice is not None and not is_active(choice, now):
            declined += 1
            continue
        due.append(person)
    return due, declined


async def refresh_rosters(services: Services, now: datetime) -> int:
    """Read each enrolled team's members from Teams before a cycle, so joiners get it and
    leavers do not. A team Teams will not list keeps its last known roster."""
    if services.list_members is None:
        return 0
    async with services.sessions() as session:
        teams = list((await session.exec(select(Team))).all())
        enrolled = set(await enrolled_team_ids(session, services, teams))
        channels = {
            c.team_id: c
            for c in (
                await session.exec(select(Conversation).where(Conversation.team_id.in_(enrolled)))
            ).all()
        }
    refreshed = 0
    for team in teams:
        channel = channels.get(team.id)
        if team.id not in enrolled or channel is None:
            continue
        try:
            members = await services.list_members(channel.service_url, team.id, team.tenant_id)
        # The roster read failed (Teams away, app removed): keep the last known members.
        except Exception as error:
            log.warning("could not read a team roster: %s", type(error).__name__)
            continue
        async with services.sessions() as session:
            current = set()
            for member in members:
                aad = (member.get("aadObjectId") or "").lower()
                if not aad:
                    continue
                current.add(aad)
                await remember_person(
                    session,
                    aad,
                    team.tenant_id,
                    teams_user_id=member.get("id"),
                    upn=member.get("userPrincipalName") or member.get("email"),
                    now=now,
                )
            known = set(
                (
                    await session.exec(
                        select(TeamMember.aad_object_id).where(TeamMember.team_id == team.id)
                    )
                ).all()
            )
            await add_members(session, team.id, sorted(current - known))
            await remove_members(session, team.id, sorted(known - current))
            await session.commit()
        refreshed += 1
    return refreshed


async def _get_or_create_cycle(
    session: AsyncSession, services: Services, scheduled_for: date, now: datetime
) -> Cycle:
    times = cadence.cycle_times(
        scheduled_for, services.org.checkin.schedule, services.org.organisation.timezone
    )
    await session.exec(
        upsert_insert(session, Cycle)
        .values(
            scheduled_for=scheduled_for,
            status=OPEN,
            opened_at=now,
            reminders_at=times.reminders_at,
            closes_at=times.closes_at,
            note_week=scheduled_for.isocalendar().week,
        )
        .on_conflict_do_nothing(index_elements=["scheduled_for"])
    )
    return (await session.exec(select(Cycle).where(Cycle.scheduled_for == scheduled_for))).one()


def _checkin_reply(services: Services, cycle: Cycle, person: Person, *, reminder: bool) -> Reply:
    intro = None
    if reminder:
        intro = (
            "Just a gentle nudge: this week's check-in is still open if you'd like to answer. "
            "No pressure, and you can skip any week."
        )
    elif not person.personal_installed:
        intro = FIRST_MESSAGE.format(org=services.org.organisation.name)
    card = checkin.cycle_card(services, cycle, person.aad_object_id, intro=intro, reminder=reminder)
    return Reply(
        card=card,
        to=PersonalChat(person.aad_object_id),
        purpose="reminder" if reminder else "checkin",
    )


async def open_cycle(
    services: Services,
    scheduled_for: date,
    now: datetime,
    *,
    team: str | None = None,
    immediate: bool = False,
) -> OpenReport:
    """Create the cycle (once) and queue a check-in for everyone due one who has not got it.

    Scheduled runs queue each message for the person's own local delivery time; `immediate`
    (the admin's `checkins send`) sends now, ignoring quiet hours.
    """
    schedule, org_tz = services.org.checkin.schedule, services.org.organisation.timezone
    await refresh_rosters(services, now)
    async with services.sessions() as session:
        cycle = await _get_or_create_cycle(session, services, scheduled_for, now)
        if cycle.status in (CYCLE_ABORTED, CLOSED):
            await session.commit()
            raise CycleError(f"the cycle for {scheduled_for} is {cycle.status}: nothing was sent")
        people, declined = await recipients(session, services, now, team)
        queued = already = 0
        for person in people:
            due = (
                now
                if immediate
                else max(now, cadence.due_at(scheduled_for, schedule, org_tz, person.time_zone))
            )
            added = await session.exec(
                upsert_insert(session, CycleRecipient)
                .values(
                    cycle_id=cycle.id,
                    aad_object_id=person.aad_object_id,
                    due_at=due,
                )
                .on_conflict_do_nothing(index_elements=["cycle_id", "aad_object_id"])
                .returning(CycleRecipient.cycle_id)
            )
            if added.first() is None:
                already += 1
                continue
            reply = _checkin_reply(services, cycle, person, reminder=False)
            await enqueue_reply(
                session,
                person.tenant_id,
                reply,
                dedupe_key=f"checkin:{scheduled_for}:{person.aad_object_id}",
                cycle_id=cycle.id,
                status=HELD if cycle.status == CYCLE_HELD else "queued",
                now=now,
                not_before=due,
            )
            queued += 1
        await session.commit()
        report = OpenReport(cycle.id, scheduled_for, queued, already, declined)
    services.wake_sender()
    log.info(
        "cycle %s: queued %d, already had it %d, paused or stopped %d",
        scheduled_for,
        queued,
        already,
        declined,
    )
    return report


async def send_reminders(services: Services, now: datetime) -> int:
    """One gentle reminder to each person who has not answered an open cycle, once."""
    schedule, org_tz = services.org.checkin.schedule, services.org.organisation.timezone
    if schedule.reminder_after_hours is None:
        return 0
    sent = 0
    async with services.sessions() as session:
        open_cycles = (
            await session.exec(select(Cycle).where(Cycle.status == OPEN, Cycle.closes_at > now))
        ).all()
        for cycle in open_cycles:
            pending = (
                await session.exec(
                    select(CycleRecipient, Person)
                    .join(Person, Person.aad_object_id == CycleRecipient.aad_object_id)
                    .where(
                        CycleRecipient.cycle_id == cycle.id,
                        CycleRecipient.answered.is_(False),
                        CycleRecipient.reminded.is_(False),
                    )
                )
            ).all()
            for recipient, person in pending:
                when = cadence.reminder_at(recipient.due_at, schedule, org_tz, person.time_zone)
                if when is None or when > now or when >= cycle.closes_at:
                    continue
                choice = await session.get(Participation, person.aad_object_id)
                recipient.reminded = True
                session.add(recipient)
                if person.unreachable_since is not None or (choice and not is_active(choice, now)):
                    continue
                await enqueue_reply(
                    session,
                    person.tenant_id,
                    _checkin_reply(services, cycle, person, reminder=True),
                    dedupe_key=f"reminder:{cycle.scheduled_for}:{person.aad_object_id}",
                    cycle_id=cycle.id,
                    now=now,
                )
                sent += 1
        await session.commit()
    if sent:
        services.wake_sender()
    return sent


async def close_due_cycles(services: Services, now: datetime) -> list[date]:
    """Close cycles whose window has passed; their answers are then frozen for reporting."""
    async with services.sessions() as session:
        due = (
            await session.exec(
                select(Cycle).where(Cycle.status.in_((OPEN, CYCLE_HELD)), Cycle.closes_at <= now)
            )
        ).all()
        for cycle in due:
            cycle.status, cycle.closed_at = CLOSED, now
            session.add(cycle)
            await session.exec(
                update(OutboxMessage)
                .where(
                    OutboxMessage.cycle_id == cycle.id,
                    OutboxMessage.status.in_((*PENDING_STATES, HELD)),
                )
                .values(
                    status=ABORTED,
                    last_error="cycle closed before it could be sent",
                    payload=DELIVERED_PAYLOAD,
                    updated_at=now,
                )
            )
        await session.commit()
    for cycle in due:
        await digests.after_cycle_closed(services, cycle.id, now)
    return [cycle.scheduled_for for cycle in due]


async def tick(services: Services, now: datetime) -> None:
    """The scheduler's heartbeat: open the cycle that is due, remind, close. Safe to run often
    and from several places; everything it does is keyed by the cycle's date."""
    schedule, org_tz = services.org.checkin.schedule, services.org.organisation.timezone
    await close_due_cycles(services, now)
    scheduled_for = cadence.current_cycle_date(now, schedule, org_tz)
    if scheduled_for is not None:
        async with services.sessions() as session:
            existing = (
                await session.exec(select(Cycle).where(Cycle.scheduled_for == scheduled_for))
            ).first()
        if existing is None:
            await open_cycle(services, scheduled_for, now)
    await send_reminders(services, now)
    await delivery_notices(services, now)


async def find_cycle(
    session: AsyncSession, which: str | None, now: datetime, services: Services
) -> Cycle:
    """A cycle by date (YYYY-MM-DD), or the current one."""
    if which:
        try:
            wanted = date.fromisoformat(which)
        except ValueError as error:
            raise CycleError(f"{which!r} is not a date: use YYYY-MM-DD") from error
    else:
        wanted = cadence.current_cycle_date(
            now, services.org.checkin.schedule, services.org.organisation.timezone
        )
        if wanted is None:
            raise CycleError("no cycle is open now; name one by date (YYYY-MM-DD)")
    cycle = (await session.exec(select(Cycle).where(Cycle.scheduled_for == wanted))).first()
    if cycle is None:
        raise CycleError(f"there is no cycle for {wanted}")
    return cycle


async def _move_cycle(
    services: Services,
    which: str | None,
    now: datetime,
    *,
    allowed_from: tuple[str, ...],
    to: str,
    messages_from: tuple[str, ...],
    messages_to: dict[str, object],
) -> int:
    """Change a cycle's state and its unsent messages' state together; returns how many moved."""
    async with services.sessions() as session:
        cycle = await find_cycle(session, which, now, services)
        if cycle.status not in allowed_from:
            raise CycleError(
                f"the cycle for {cycle.scheduled_for} is {cycle.status}, not {' or '.join(allowed_from)}"
            )
        cycle.status = to
        session.add(cycle)
        moved = await session.exec(
            update(OutboxMessage)
            .where(OutboxMessage.cycle_id == cycle.id, OutboxMessage.status.in_(messages_from))
            .values(**messages_to, updated_at=now)
            .returning(OutboxMessage.id)
        )
        count = len(moved.all())
        await session.commit()
    return count


async def hold(services: Services, which: str | None, now: datetime) -> int:
    """Stop a cycle mid-send (a day of bad news): what is unsent waits until released."""
    return await _move_cycle(
        services,
        which,
        now,
        allowed_from=(OPEN,),
        to=CYCLE_HELD,
        messages_from=PENDING_STATES,
        messages_to={"status": HELD},
    )


async def release(services: Services, which: str | None, now: datetime) -> int:
    """Pick a held cycle up again: the held messages go out (due ones at once)."""
    released = await _move_cycle(
        services,
        which,
        now,
        allowed_from=(CYCLE_HELD,),
        to=OPEN,
        messages_from=(HELD,),
        messages_to={"status": "queued"},
    )
    services.wake_sender()
    return released


async def abort(services: Services, which: str | None, now: datetime) -> int:
    """Drop what is left of a cycle; answers already given still count."""
    return await _move_cycle(
        services,
        which,
        now,
        allowed_from=(OPEN, CYCLE_HELD),
        to=CYCLE_ABORTED,
        messages_from=(*PENDING_STATES, HELD),
        messages_to={
            "status": ABORTED,
            "last_error": "cycle aborted by an admin",
            "payload": DELIVERED_PAYLOAD,
        },
    )


async def delivery_counts(
    services: Services, which: str | None, now: datetime
) -> tuple[Cycle, dict[str, int]]:
    """Queued, sending, sent, retrying, held, failed, unreachable, aborted and answered counts."""
    async with services.sessions() as session:
        cycle = await find_cycle(session, which, now, services)
        return cycle, await cycle_counts(session, cycle.id)


def _stall_reason(statuses: Counter[str], errors: Counter[str]) -> str:
    if statuses.get(HELD):
        return "the cycle is on hold (release it with `wellbeing-bot checkins release`)"
    if errors:
        error, _ = errors.most_common(1)[0]
        if error == "HTTP 429":
            return "Teams keeps asking the bot to slow down (HTTP 429); it is retrying"
        if error in {"timed out", "ClientConnectorError"} or error.startswith("Client"):
            return f"the Bot Connector is not answering ({error}); the bot is retrying"
        return f"sends are failing ({error}); the bot is retrying"
    return "no sender seems to be running: check that the bot is up and /readyz is green"


async def _leads(session: AsyncSession, services: Services) -> list[str]:
    found = []
    for ref in services.org.roles.wellbeing_leads:
        aad = await resolve_person(session, ref)
        if aad:
            found.append(aad)
    return found


async def delivery_notices(services: Services, now: datetime) -> list[str]:
    """Tell the wellbeing leads when a cycle's sending completes, or stalls, with the reason.

    Messages stuck as "queued" with no explanation are the commonest complaint about bulk
    sending in Teams; this says what is happening instead.
    """
    stall_after = timedelta(minutes=services.org.checkin.schedule.stall_notice_minutes)
    notices: list[tuple[date, str, str]] = []
    async with services.sessions() as session:
        cycles = (
            await session.exec(select(Cycle).where(Cycle.status.in_((OPEN, CYCLE_HELD))))
        ).all()
        leads = await _leads(session, services)
        for cycle in cycles:
            rows = (
                await session.exec(
                    select(
                        OutboxMessage.status,
                        OutboxMessage.last_error,
                        OutboxMessage.next_attempt_at,
                        OutboxMessage.sent_at,
                    ).where(OutboxMessage.cycle_id == cycle.id, OutboxMessage.purpose == "checkin")
                )
            ).all()
            if not rows:
                continue
            statuses = Counter(status for status, *_ in rows)
            waiting = [r for r in rows if r[0] in (*PENDING_STATES, SENDING, HELD)]
            if not waiting and cycle.completed_notice_at is None:
                text = (
                    f"Wellbeing Wednesday {cycle.scheduled_for:%-d %B}: sending is complete. "
                    f"{statuses.get(SENT, 0)} delivered, {statuses.get(UNREACHABLE, 0)} couldn't be "
                    f"reached (the app was removed or blocked), {statuses.get(FAILED, 0)} failed."
                )
                cycle.completed_notice_at = now
                kind = "complete"
            elif waiting:
                due = [r for r in waiting if r[0] == HELD or r[2] <= now]
                last_sent = max((r[3] for r in rows if r[3] is not None), default=cycle.opened_at)
                quiet_since = max(last_sent, min((r[2] for r in due), default=now))
                recently_told = (
                    cycle.stall_notice_at is not None
                    and now - cycle.stall_notice_at < stall_after * 4
                )
                if not due or now - quiet_since < stall_after or recently_told:
                    continue
                errors = Counter(r[1] for r in waiting if r[1])
                text = (
                    f"Wellbeing Wednesday {cycle.scheduled_for:%-d %B}: {len(waiting)} check-in"
                    f"{' is' if len(waiting) == 1 else 's are'} "
                    f"waiting and nothing has gone out for {int((now - quiet_since).total_seconds() // 60)} "
                    f"minutes. Reason: {_stall_reason(statuses, errors)}."
                )
                cycle.stall_notice_at = now
                kind = "stalled"
            else:
                continue
            session.add(cycle)
            notices.append((cycle.scheduled_for, kind, text))
            for lead in leads:
                await enqueue_reply(
                    session,
                    services.org.organisation.tenant_id or "",
                    Reply(text=text, to=PersonalChat(lead), purpose="notice"),
                    now=now,
                )
        await session.commit()
    if notices and leads:
        services.wake_sender()
    for scheduled_for, kind, _text in notices:
        log.info("delivery notice for cycle %s: %s", scheduled_for, kind)
    return [text for *_, text in notices]
