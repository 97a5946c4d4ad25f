"""Who and where the bot can reach: people, conversation references, teams and their members.

Identity and routing data only (the identity class of docs/privacy.md's data inventory).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.store.models import Conversation, Participation, Person, Team, TeamMember


@dataclass(frozen=True)
class ConversationInfo:
    """Where an activity came from, already converted from Teams' shapes."""

    id: str
    kind: str
    tenant_id: str
    service_url: str
    bot_id: str
    reference: dict[str, Any]
    aad_object_id: str | None = None
    team_id: str | None = None


async def load_routing(
    session: AsyncSession, conversation_id: str, aad_object_id: str | None
) -> list[Any]:
    """Load a conversation's row and its person's in one query, so `remember_conversation` and
    `remember_person` right after find them in the session instead of asking one by one. Keep
    what it returns while they run: the session holds its rows only weakly."""
    if aad_object_id:
        statement = (
            select(Conversation, Person)
            .outerjoin(Person, Person.aad_object_id == aad_object_id)
            .where(Conversation.id == conversation_id)
        )
    else:
        statement = select(Conversation).where(Conversation.id == conversation_id)
    return list((await session.exec(statement)).all())


async def remember_conversation(
    session: AsyncSession, info: ConversationInfo, *, now: datetime
) -> None:
    """Store or refresh a conversation reference (service URLs change by region, so always refresh)."""
    row = await session.get(Conversation, info.id) or Conversation(
        id=info.id,
        kind=info.kind,
        tenant_id=info.tenant_id,
        service_url=info.service_url,
        bot_id=info.bot_id,
        reference="{}",
    )
    row.kind, row.tenant_id, row.service_url, row.bot_id = (
        info.kind,
        info.tenant_id,
        info.service_url,
        info.bot_id,
    )
    row.aad_object_id = info.aad_object_id if info.kind == "personal" else None
    row.team_id = info.team_id
    row.reference = json.dumps(info.reference, sort_keys=True)
    _save_if_changed(session, row, now)


async def remember_person(
    session: AsyncSession,
    aad_object_id: str,
    tenant_id: str,
    *,
    teams_user_id: str | None = None,
    time_zone: str | None = None,
    personal_conversation_id: str | None = None,
    upn: str | None = None,
    now: datetime,
) -> Person:
    """Create or update a person's routing row; fields not given are left as they were."""
    person = await session.get(Person, aad_object_id) or Person(
        aad_object_id=aad_object_id, tenant_id=tenant_id
    )
    person.tenant_id = tenant_id
    if teams_user_id:
        person.teams_user_id = teams_user_id
    if time_zone:
        person.time_zone = time_zone
    if upn:
        person.upn = upn.lower()
    if personal_conversation_id:
        person.personal_conversation_id = personal_conversation_id
        person.personal_installed = True
        person.unreachable_since = None
    _save_if_changed(session, person, now)
    return person


def _save_if_changed(session: AsyncSession, row: Person | Conversation, now: datetime) -> None:
    """Write a routing row only when something in it changed: every message refreshes them, and
    an unchanged row need not cost a database write on that path."""
    if inspect(row).transient or session.is_modified(row):
        row.updated_at = now
        session.add(row)


async def personal_install_removed(
    session: AsyncSession, aad_object_id: str, *, now: datetime
) -> None:
    """The app left someone's personal scope: forget the chat, and treat it as their `stop`."""
    person = await session.get(Person, aad_object_id)
    if person is not None:
        if person.personal_conversation_id:
            await session.exec(
                delete(Conversation).where(Conversation.id == person.personal_conversation_id)
            )
        person.personal_conversation_id = None
        person.personal_installed = False
        person.updated_at = now
        session.add(person)
    await session.exec(
        delete(Conversation).where(
            Conversation.aad_object_id == aad_object_id, Conversation.kind == "personal"
        )
    )
    participation = await session.get(Participation, aad_object_id) or Participation(
        aad_object_id=aad_object_id
    )
    participation.status, participation.paused_until = "stopped", None
    participation.updated_at = now
    session.add(participation)


async def remember_team(
    session: AsyncSession,
    team_id: str,
    tenant_id: str,
    *,
    aad_group_id: str | None,
    name: str | None,
    now: datetime,
) -> Team:
    team = await session.get(Team, team_id) or Team(id=team_id, tenant_id=tenant_id)
    team.tenant_id = tenant_id
    if aad_group_id:
        team.aad_group_id = aad_group_id.lower()
    if name:
        team.name = name
    team.updated_at = now
    session.add(team)
    return team


async def forget_team(session: AsyncSession, team_id: str) -> None:
    """The app was removed from a team: drop its channels, roster and the team itself."""
    await session.exec(delete(Conversation).where(Conversation.team_id == team_id))
    await session.exec(delete(TeamMember).where(TeamMember.team_id == team_id))
    await session.exec(delete(Team).where(Team.id == team_id))


async def forget_conversation(session: AsyncSession, conversation_id: str) -> None:
    await session.exec(delete(Conversation).where(Conversation.id == conversation_id))


async def add_members(session: AsyncSession, team_id: str, aad_object_ids: list[str]) -> None:
    for member in aad_object_ids:
        if await session.get(TeamMember, (team_id, member)) is None:
            session.add(TeamMember(team_id=team_id, aad_object_id=member))


async def remove_members(session: AsyncSession, team_id: str, aad_object_ids: list[str]) -> None:
    if aad_object_ids:
        await session.exec(
            delete(TeamMember).where(
                TeamMember.team_id == team_id, TeamMember.aad_object_id.in_(aad_object_ids)
            )
        )


async def resolve_person(session: AsyncSession, person_ref: str) -> str | None:
    """An AAD object id for a config entry that may be an id or a UPN/email seen in a roster."""
    if "@" not in person_ref:
        return person_ref
    found = await session.exec(select(Person.aad_object_id).where(Person.upn == person_ref.lower()))
    return found.first()


async def conversation_known(session: AsyncSession, conversation_id: str) -> bool:
    """Whether the bot holds a reference to this conversation (so it can post there)."""
    return await session.get(Conversation, conversation_id) is not None


async def team_of_conversation(session: AsyncSession, conversation_id: str) -> str | None:
    """The Teams team a channel conversation belongs to, when the bot knows it."""
    row = await session.get(Conversation, conversation_id)
    return row.team_id if row else None


async def teams_user_id(session: AsyncSession, aad_object_id: str) -> str | None:
    """A person's Teams user id (what an @mention needs), when the bot has seen them."""
    row = await session.get(Person, aad_object_id)
    return row.teams_user_id if row else None
