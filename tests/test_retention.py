"""The nightly retention job: raw answers, notes, the pseudonyms kept for the churn rule, who was
sent what, and stale conversation state go after the retention period; frozen aggregates stay;
people who left every roster and uninstalled lose their identity and routing rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from core.privacy import retention
from core.privacy.aggregates import FrozenRespondent
from core.reporting.frozen import FrozenCycle, FrozenGroup
from core.store.audit import AuditEntry
from core.store.cycles import Cycle, CycleRecipient
from core.store.models import Participation, Person, StateRecord, Team, TeamMember
from core.store.wellbeing import CheckinAnswer
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser
from tests.support.clock import Clock

pytestmark = pytest.mark.time_sensitive

NOW = datetime(2027, 12, 15, 3, 0, tzinfo=UTC)  # 03:00 in London


def _cycle(day: date) -> Cycle:
    moment = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return Cycle(
        scheduled_for=day,
        status="closed",
        opened_at=moment,
        reminders_at=moment + timedelta(days=1),
        closes_at=moment + timedelta(days=6),
        closed_at=moment + timedelta(days=6),
    )


async def test_old_raw_data_goes_and_aggregates_stay(make_bot):
    bot = await make_bot(clock=Clock(NOW))
    user = TeamsUser()
    await bot.install(user)
    secrets = bot.services.secrets
    old_day, new_day = date(2026, 11, 25), date(2027, 12, 1)
    async with bot.services.sessions() as session:
        old, new = _cycle(old_day), _cycle(new_day)
        session.add_all([old, new])
        await session.flush()
        for cycle, when, note in ((old, NOW - timedelta(days=390), "old"), (new, NOW, "new")):
            session.add(
                CheckinAnswer(
                    pseudonym=secrets.pseudonym(user.aad_object_id),
                    cycle_id=cycle.id,
                    card_id=note,
                    mood=3,
                    note=secrets.encrypt(note),
                    answered_at=when,
                )
            )
            session.add(
                CycleRecipient(cycle_id=cycle.id, aad_object_id=user.aad_object_id, due_at=when)
            )
            session.add(
                FrozenCycle(
                    cycle_id=cycle.id, scheduled_for=cycle.scheduled_for, k=5, frozen_at=NOW
                )
            )
            session.add(
                FrozenRespondent(
                    cycle_id=cycle.id, group_kind="team", group_key="t", member="someone"
                )
            )
        await session.flush()
        session.add(
            FrozenGroup(cycle_id=old.id, scheduled_for=old_day, kind="team", key="t", name="T")
        )
        session.add(
            StateRecord(
                key="msteams/conversations/old",
                document="{}",
                etag="e",
                updated_at=NOW - timedelta(days=400),
            )
        )
        session.add(AuditEntry(at=NOW - timedelta(days=365 * 7), actor="x", action="export"))
        session.add(AuditEntry(at=NOW - timedelta(days=365 * 5), actor="y", action="export"))
        await session.commit()
        old_id, new_id = old.id, new.id

    report = await retention.run(bot.services, NOW)
    assert report.answers == 1 and report.cycles == 1 and report.audit_entries == 1

    async with bot.services.sessions() as session:
        notes = [secrets.decrypt(a.note) for a in (await session.exec(select(CheckinAnswer))).all()]
        assert notes == ["new"]
        recipients = (await session.exec(select(CycleRecipient))).all()
        assert {r.cycle_id for r in recipients} == {new_id}
        kept = (await session.exec(select(FrozenRespondent))).all()
        assert [r.cycle_id for r in kept] == [new_id] and old_id != new_id
        assert len((await session.exec(select(FrozenGroup))).all()) == 1  # aggregates stay
        assert await session.get(StateRecord, "msteams/conversations/old") is None
        assert [e.actor for e in (await session.exec(select(AuditEntry))).all()] == ["y"]


async def test_people_who_left_lose_their_identity_and_routing_rows(make_bot):
    bot = await make_bot(clock=Clock(NOW))
    team = TeamsTeam()
    left, still_in_team, still_installed = TeamsUser(), TeamsUser(), TeamsUser()
    for user in (left, still_in_team, still_installed):
        await bot.install(user)
    await bot.post(activities.team_install(still_in_team, team, bot.connector.url))
    async with bot.services.sessions() as session:
        [row] = (await session.exec(select(Team))).all()
        session.add(TeamMember(team_id=row.id, aad_object_id=still_in_team.aad_object_id))
        await session.commit()
    for user in (left, still_in_team):
        await bot.post(activities.personal_install(user, bot.connector.url, action="remove"))

    report = await retention.run(bot.services, NOW)
    assert report.people == 1
    async with bot.services.sessions() as session:
        assert await session.get(Person, left.aad_object_id) is None
        assert await session.get(Participation, left.aad_object_id) is None
        assert await session.get(Person, still_in_team.aad_object_id) is not None
        assert await session.get(Person, still_installed.aad_object_id) is not None


async def test_the_nightly_job_works_only_in_the_small_hours(make_bot):
    clock = Clock(datetime(2027, 6, 1, 13, 0, tzinfo=UTC))
    bot = await make_bot(clock=clock)
    async with bot.services.sessions() as session:
        session.add(AuditEntry(at=clock.now - timedelta(days=365 * 7), actor="x", action="erase"))
        await session.commit()
    await retention.nightly(bot.services)
    async with bot.services.sessions() as session:
        assert len((await session.exec(select(AuditEntry))).all()) == 1
    clock.now = datetime(2027, 6, 2, 1, 30, tzinfo=UTC)  # 02:30 in London (summer time)
    await retention.nightly(bot.services)
    async with bot.services.sessions() as session:
        assert (await session.exec(select(AuditEntry))).all() == []


def test_months_are_calendar_months():
    assert retention.months_before(datetime(2027, 3, 31, tzinfo=UTC), 1) == datetime(
        2027, 2, 28, tzinfo=UTC
    )
    assert retention.months_before(datetime(2027, 1, 15, tzinfo=UTC), 12) == datetime(
        2026, 1, 15, tzinfo=UTC
    )
