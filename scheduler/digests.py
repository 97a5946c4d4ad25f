"""Manager digests: when a cycle closes, freeze its answers (core.privacy.aggregates applies the rules,
core.reporting.frozen stores what passed) and queue each manager's digest in their personal chat.

Manager-facing: this module never reads answers or per-person rows itself; it hands the org
structure to core.privacy.aggregates and gets back figures that already passed the rules.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlmodel import select

from core.config import orgimport
from core.context import Services
from core.events import PersonalChat, Reply
from core.logs import describe
from core.privacy import aggregates
from core.privacy.aggregates import DIRECTORATE, ORGANISATION, TEAM, GroupSpec
from core.reporting import frozen as reporting
from core.store.cycles import CLOSED, Cycle
from core.store.models import Person, Team
from core.store.outbox import enqueue_reply
from dialogs import manager

log = logging.getLogger(__name__)

SEND_WITHIN = timedelta(days=2)
"""A cycle frozen later than this after closing (say, after an outage) is frozen without
sending digests: week-old news is no use to a manager."""


async def after_cycle_closed(services: Services, cycle_id: int, now: datetime) -> int:
    """Freeze a just-closed cycle and queue the digests; returns how many were queued."""
    try:
        return await freeze_and_send(services, cycle_id, now)
    # Closing cycles must carry on whatever happens here; the catch-up job tries again.
    except Exception as error:
        log.warning("freezing a closed cycle failed: %s", describe(error))
        return 0


async def catch_up(services: Services, now: datetime) -> int:
    """Freeze any closed cycle that was not frozen (a crash between closing and freezing)."""
    async with services.sessions() as session:
        closed = (await session.exec(select(Cycle).where(Cycle.status == CLOSED))).all()
        frozen = set((await session.exec(select(reporting.FrozenCycle.cycle_id))).all())
    queued = 0
    for cycle in closed:
        if cycle.id not in frozen:
            queued += await freeze_and_send(services, cycle.id, now)
    return queued


async def _group_specs(services: Services, session, cycle_id: int):
    """Teams, directorates and the organisation, with whose answers count in each."""
    teams = await orgimport.org_teams(session, services.org)
    installed = {
        (row.aad_group_id or "").lower(): row
        for row in (await session.exec(select(Team))).all()
        if row.aad_group_id
    }
    rosters = await aggregates.team_rosters(session, [t.id for t in teams])
    specs: list[GroupSpec] = []
    names: dict[tuple[str, str], reporting.GroupName] = {}
    managers: dict[str, list[str]] = {}
    by_directorate: dict[str, set[str]] = defaultdict(set)
    for team in teams:
        managers[team.id] = await orgimport.resolve_all(session, team.managers)
        roster = rosters.get(team.id)
        if not roster:
            continue
        members = frozenset(roster - set(managers[team.id]))
        specs.append(GroupSpec(TEAM, team.id, members, len(members)))
        names[(TEAM, team.id)] = reporting.GroupName(team.name, team.directorate)
        if team.directorate:
            by_directorate[team.directorate] |= members
    for name, members in sorted(by_directorate.items()):
        specs.append(GroupSpec(DIRECTORATE, name, frozenset(members), len(members)))
        names[(DIRECTORATE, name)] = reporting.GroupName(name, name)
    specs.append(await aggregates.organisation_spec(session, cycle_id))
    names[(ORGANISATION, ORGANISATION)] = reporting.GroupName(services.org.organisation.name)
    enrolled = [
        t
        for t in teams
        if t.enrolled or (installed.get(t.id) is not None and installed[t.id].enrolled)
    ]
    return specs, names, managers, enrolled


async def _viewers(services: Services, session, managers: dict[str, list[str]]) -> set[str]:
    """Everyone who can see figures: managers, wellbeing leads and admins."""
    roles = services.org.roles
    viewers = {aad for found in managers.values() for aad in found}
    viewers |= set(await orgimport.resolve_all(session, [*roles.wellbeing_leads, *roles.admins]))
    return viewers


async def freeze_and_send(services: Services, cycle_id: int, now: datetime) -> int:
    """Freeze once (a second call, or a second replica, does nothing) and queue the digests."""
    k = services.org.privacy.k
    questions = services.org.checkin.questions
    queued = 0
    async with services.sessions() as session:
        cycle = await session.get(Cycle, cycle_id)
        if cycle is None or cycle.status != CLOSED:
            return 0
        if not await reporting.claim(session, cycle.id, cycle.scheduled_for, k, now):
            await session.rollback()
            return 0
        specs, names, managers, enrolled = await _group_specs(services, session, cycle.id)
        outcomes = await aggregates.freeze_cycle(
            session,
            cycle_id=cycle.id,
            specs=specs,
            secrets=services.secrets,
            k=k,
            viewers=await _viewers(services, session, managers),
        )
        reporting.store(session, cycle.id, cycle.scheduled_for, outcomes, names)
        await session.flush()
        send = cycle.closed_at is None or now - cycle.closed_at <= SEND_WITHIN
        for team in enrolled if send else []:
            summary = await reporting.summary_for(
                session, TEAM, team.id, team.name, cycle.id, questions
            )
            if summary is None:
                summary = aggregates.Summary.hidden(team.name, cycle.scheduled_for)
            card = manager.digest_card(summary, services.org)
            for manager_id in managers.get(team.id, []):
                person = await session.get(Person, manager_id)
                if person is None:
                    continue
                added = await enqueue_reply(
                    session,
                    person.tenant_id,
                    Reply(card=card, to=PersonalChat(manager_id), purpose="digest"),
                    dedupe_key=f"digest:{cycle.scheduled_for}:{team.id}:{manager_id}",
                    now=now,
                )
                queued += int(added)
        await session.commit()
    if queued:
        services.wake_sender()
    log.info("cycle %s frozen: %d group(s), %d digest(s) queued", cycle_id, len(specs), queued)
    return queued
