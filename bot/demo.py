"""`wellbeing-bot demo`: the bot on a database of its own, seeded with a demo organisation.

Someone deciding whether to use the bot sees every role at once: a manager's team figures, a
person's own check-ins, the lead's report with its charts, a coordinator who can be reached.
The weeks are made through the real code, as real use would make them: cycles opened by the
scheduler, answers recorded by the check-in, cycles closed and frozen by the privacy rules, the
lead's delivery counts taken by the report's job. Only the people and their answers are made up.

It never touches the normal database, and refuses to run with production settings.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from core.config.orgconfig import OrgConfig
from core.config.settings import GUID, Settings
from core.context import Services
from core.privacy import counting
from core.reporting import leadreport
from core.store.cycles import Cycle
from core.store.models import Person, Team, TeamMember
from core.store.outbox import DELIVERED_PAYLOAD, FINAL_STATES, SENT, OutboxMessage
from dialogs.checkin import Answer, record_answer
from scheduler import cadence, checkins, digests

DEMO_DATABASE = "wellbeing-demo.db"
"""In the working directory, next to (never instead of) the normal wellbeing.db."""
WEEKS = 6
MEMBERS_PER_TEAM = (14, 9)
"""Staff in each of the organisation's teams, the manager aside (more teams get 8)."""
BANNER = "Demo: made-up people and answers"
"""Shown at the top of every card the demo bot sends."""
MOODS = {"struggling_low": (1, 2), "okay": (3,), "good_great": (4, 5)}
MOOD_SHARES = (0.25, 0.35, 0.40)
AFFECTING = ("work", "work", "personal", "health", "mix", "nothing")
PULSE = ("agree", "agree", "unsure", "disagree")


class DemoRefused(Exception):
    """Settings that belong to a real deployment: the demo will not run with them."""


def demo_refusal(settings: Settings) -> str | None:
    """Why the demo must not run with these settings, or None."""
    if not settings.local_mode:
        return "the demo runs only in local mode: unset MicrosoftAppId"
    if not settings.database_url.startswith("sqlite"):
        return "the demo keeps its own SQLite file: unset DATABASE_URL (it never uses PostgreSQL)"
    return None


def demo_settings(settings: Settings, directory: Path) -> Settings:
    """The same settings on the demo's own database file, started afresh each time."""
    path = directory / DEMO_DATABASE
    path.unlink(missing_ok=True)
    return settings.model_copy(update={"database_url": f"sqlite:///{path}"})


class SeedClock:
    """The clock the seed walks through past weeks with; the running demo reads the wall clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Seeded:
    people: int
    weeks: int
    answers: int


def _person_id(team_index: int, member: int) -> str:
    return str(uuid.UUID(int=(0xDE30 << 112) + (team_index << 16) + member))


async def _people(services: Services, now: datetime) -> dict[str, list[str]]:
    """Each configured team installed in Teams with its members; returns team id -> members."""
    org, rosters = services.org, {}
    async with services.sessions() as session:
        for index, team in enumerate(org.teams):
            size = MEMBERS_PER_TEAM[index] if index < len(MEMBERS_PER_TEAM) else 8
            members = [_person_id(index, i) for i in range(size)]
            thread = f"19:demo-{index}@thread.tacv2"
            session.add(
                Team(
                    id=thread,
                    aad_group_id=team.id.lower(),
                    name=team.name,
                    tenant_id=org.organisation.tenant_id or "demo",
                    enrolled=True,
                    updated_at=now,
                )
            )
            for aad in [*members, *(m.lower() for m in team.managers)]:
                if await session.get(Person, aad) is None:
                    session.add(
                        Person(
                            aad_object_id=aad,
                            tenant_id=org.organisation.tenant_id or "demo",
                            time_zone=org.organisation.timezone,
                            updated_at=now,
                        )
                    )
            await session.flush()
            for aad in members:
                session.add(TeamMember(team_id=thread, aad_object_id=aad))
            rosters[thread] = members
        await session.commit()
    return rosters


def _mood(rng: random.Random, previous: str | None) -> str:
    """Mood groups that mostly carry over from one week to the next, as people's do."""
    if previous is not None and rng.random() < 0.7:
        return previous
    return rng.choices(list(MOODS), MOOD_SHARES)[0]


async def seed(services: Services, clock: SeedClock, rng: random.Random) -> Seeded:
    """WEEKS closed Wellbeing Wednesdays before `clock.now`, through the real code."""
    end = clock.now
    schedule, org_tz = services.org.checkin.schedule, services.org.organisation.timezone
    rosters = await _people(services, end - timedelta(weeks=WEEKS + 1))
    people = [aad for members in rosters.values() for aad in members]
    keen = {aad: rng.uniform(0.45, 0.95) for aad in people}
    moods: dict[str, str | None] = dict.fromkeys(people)
    first = cadence.next_cycle_dates(end - timedelta(weeks=WEEKS + 1), schedule, WEEKS)
    answers = 0
    for day in first:
        opened = cadence.due_at(day, schedule, org_tz, None)
        clock.now = opened
        report = await checkins.open_cycle(services, day, opened, immediate=True)
        pulse_items = services.org.checkin.questions.pulse.for_week(day.isocalendar().week)
        for aad in people:
            if rng.random() > keen[aad]:
                continue
            moods[aad] = _mood(rng, moods[aad])
            clock.now = opened + timedelta(minutes=rng.randint(5, 30 * 60))
            answer = Answer(
                mood=rng.choice(MOODS[moods[aad]]),
                affecting=rng.choice(AFFECTING),
                pulse={item.id: rng.choice(PULSE) for item in pulse_items if rng.random() < 0.6},
            )
            await record_answer(
                services, aad, answer, card_id=uuid.uuid4().hex, cycle_id=report.cycle_id
            )
            answers += 1
        async with services.sessions() as session:
            cycle = await session.get(Cycle, report.cycle_id)
            closes_at = cycle.closes_at
        clock.now = closes_at + timedelta(minutes=1)
        await checkins.close_due_cycles(services, clock.now)
        await digests.freeze_and_send(services, report.cycle_id, clock.now)
        await _delivered(services, clock.now)
        async with services.sessions() as session:
            for need, service in (("money", "staff_support_line"), ("stress", "chaplaincy")):
                for _ in range(rng.randint(3, 12)):
                    await counting.bump(
                        session, counting.SERVICE_SHOWN, opened, need=need, service=service
                    )
            await session.commit()
    async with services.sessions() as session:
        await leadreport.snapshot_closed_cycles(session, clock.now)
        await session.commit()
    clock.now = end
    return Seeded(people=len(people), weeks=len(first), answers=answers)


async def _delivered(services: Services, now: datetime) -> None:
    """What the seed queued was delivered back then: nothing of it goes out now."""
    async with services.sessions() as session:
        await session.exec(
            update(OutboxMessage)
            .where(OutboxMessage.status.not_in(FINAL_STATES))
            .values(
                status=SENT,
                sent_at=now,
                updated_at=now,
                lease_until=None,
                claimed_by=None,
                payload=DELIVERED_PAYLOAD,
            )
        )
        await session.commit()


def cast(org: OrgConfig) -> dict[str, tuple[str, str]]:
    """Who the console can be, by role: (AAD id, name). People named by UPN are left out (the
    console needs an id); `staff` is a made-up member of the first team, with weeks of history."""
    roles = org.roles
    first_team = org.teams[0] if org.teams else None
    candidates = {
        "staff": ([_person_id(0, 0)], f"Sam, on {first_team.name}" if first_team else "Sam"),
        "manager": (
            first_team.managers if first_team else [],
            f"Dana, manager of {first_team.name}" if first_team else "Dana",
        ),
        "lead": (roles.wellbeing_leads, "Lee, wellbeing lead"),
        "coordinator": (roles.coordinators.primary, "Cora, staff support coordinator"),
        "backup": (roles.coordinators.backup, "Bo, backup coordinator"),
        "admin": (roles.admins, "Alex, bot admin"),
        "hr": (roles.hr_admins, "Hari, HR admin"),
    }
    found = {}
    for role, (ids, name) in candidates.items():
        guids = [i for i in ids if GUID.match(i)]
        if guids:
            found[role] = (guids[0].lower(), name)
    return found
