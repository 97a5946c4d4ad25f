"""What the bot holds about one person, declared once: every table with a column that names a
person, the column, what their export shows of it, and what erasure, leaving and the retention
period do to it. `export my data`, `delete my data` and the nightly retention job all walk
`INVENTORY`; docs/privacy.md's data inventory says the same in words, and
tests/test_privacy_inventory.py fails when a table with a person column is missing here.

The functions each entry points at are the only code that reads or removes a person's rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.config import orgimport
from core.config.orgconfig import OrgConfig
from core.faq.models import FaqEscalation
from core.privacy import aggregates, links
from core.store import audit
from core.store.cycles import OPEN, Cycle, CycleRecipient
from core.store.models import Conversation, Participation, Person, StateRecord, Team, TeamMember
from core.store.outbox import FINAL_STATES, OutboxMessage
from core.store.supportdata import ACTIVE_STATES, CoordinatorRequest
from core.store.wellbeing import CheckinAnswer

PERSON_COLUMN_NAMES = frozenset(
    {"aad_object_id", "pseudonym", "member", "actor", "subject", "manager", "asker_aad"}
    | {"requester_aad_id", "voter", "upn"}
)
"""Column names that identify a person: a table holding one must be in the inventory (or in
`NOT_ABOUT_A_PERSON`, saying why the column does not lead back to anyone)."""

NOT_ABOUT_A_PERSON = {
    "faq_feedback": "voter is a keyed hash of pseudonym and question, different for every "
    "question, so votes cannot be joined up or traced to anyone",
}


@dataclass(frozen=True)
class Subject:
    """One person, by every key their rows are stored under (read before anything is removed)."""

    aad_object_id: str
    pseudonym: str
    conversation_ids: frozenset[str]


@dataclass(frozen=True)
class Cutoffs:
    """Rows older than these go in the nightly retention job."""

    retention: datetime
    """The retention period (privacy.retention_months)."""
    audit: datetime
    """The audit period (privacy.audit_retention_months)."""
    links: datetime
    """Signed links: a day after issue."""


Read = Callable[[AsyncSession, Subject, OrgConfig], Awaitable[Any]]
Erase = Callable[[AsyncSession, Subject], Awaitable[int]]
Leave = Callable[[AsyncSession, list[str], list[str]], Awaitable[None]]
Expire = Callable[[AsyncSession, Cutoffs], Awaitable[int]]


@dataclass(frozen=True)
class Holding:
    """One table's share of a person: where, what they see, and what removes it."""

    table: str
    person_column: str
    export: str
    """The key of the export document that shows it."""
    on_erasure: str
    on_leaving: str
    retention: str
    read: Read
    erase: Erase | None = None
    leave: Leave | None = None
    """Run for people who left (no roster, app uninstalled): their AAD ids and conversations."""
    expire: Expire | None = None


# ---- finding the person ------------------------------------------------------------------------


async def conversation_ids(session: AsyncSession, aad_object_id: str) -> frozenset[str]:
    """Every conversation of theirs the bot holds, including their personal chat."""
    ids = set(
        (
            await session.exec(
                select(Conversation.id).where(Conversation.aad_object_id == aad_object_id)
            )
        ).all()
    )
    person = await session.get(Person, aad_object_id)
    if person is not None and person.personal_conversation_id:
        ids.add(person.personal_conversation_id)
    return frozenset(ids)


async def subject(session: AsyncSession, aad_object_id: str, pseudonym: str) -> Subject:
    return Subject(aad_object_id, pseudonym, await conversation_ids(session, aad_object_id))


def _state_of(conversations) -> Any:
    """Conversation state is stored under a key that ends with the conversation id."""
    return or_(
        *(
            StateRecord.key.endswith(f"/conversations/{cid}", autoescape=True)
            for cid in conversations
        )
    )


# ---- person, conversation, rosters, choice ----------------------------------------------------


async def _read_person(session: AsyncSession, who: Subject, _org: OrgConfig) -> Person | None:
    return await session.get(Person, who.aad_object_id)


async def _read_conversations(
    session: AsyncSession, who: Subject, _org: OrgConfig
) -> list[Conversation]:
    rows = await session.exec(
        select(Conversation).where(Conversation.aad_object_id == who.aad_object_id)
    )
    return list(rows.all())


async def _read_teams(session: AsyncSession, who: Subject, _org: OrgConfig) -> list[tuple]:
    """(name, AAD group id) of each team roster they are in."""
    rows = await session.exec(
        select(Team.name, Team.aad_group_id)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .where(TeamMember.aad_object_id == who.aad_object_id)
    )
    return list(rows.all())


async def _read_managed(session: AsyncSession, who: Subject, org: OrgConfig) -> list:
    return await orgimport.managed_by(session, org, who.aad_object_id)


async def _read_participation(
    session: AsyncSession, who: Subject, _org: OrgConfig
) -> Participation | None:
    return await session.get(Participation, who.aad_object_id)


async def _leave_conversations(session: AsyncSession, people: list[str], _c: list[str]) -> None:
    await session.exec(delete(Conversation).where(Conversation.aad_object_id.in_(people)))


async def _leave_participation(session: AsyncSession, people: list[str], _c: list[str]) -> None:
    await session.exec(delete(Participation).where(Participation.aad_object_id.in_(people)))


async def _leave_person(session: AsyncSession, people: list[str], _c: list[str]) -> None:
    await session.exec(delete(Person).where(Person.aad_object_id.in_(people)))


# ---- check-ins ----------------------------------------------------------------------------------


async def _read_answers(session: AsyncSession, who: Subject, _org: OrgConfig) -> list:
    rows = await session.exec(
        select(CheckinAnswer)
        .where(CheckinAnswer.pseudonym == who.pseudonym)
        .order_by(CheckinAnswer.answered_at)
    )
    return list(rows.all())


async def _erase_answers(session: AsyncSession, who: Subject) -> int:
    result = await session.exec(
        delete(CheckinAnswer).where(CheckinAnswer.pseudonym == who.pseudonym)
    )
    return result.rowcount or 0


async def _expire_answers(session: AsyncSession, cutoffs: Cutoffs) -> int:
    result = await session.exec(
        delete(CheckinAnswer).where(CheckinAnswer.answered_at < cutoffs.retention)
    )
    return result.rowcount or 0


async def _read_counted(session: AsyncSession, who: Subject, _org: OrgConfig) -> int:
    return await aggregates.count_member(session, who.pseudonym)


async def _erase_counted(session: AsyncSession, who: Subject) -> int:
    await aggregates.forget_member(session, who.pseudonym)
    return 0


async def _old_cycles(session: AsyncSession, cutoff: datetime) -> list[int]:
    return list((await session.exec(select(Cycle.id).where(Cycle.closes_at < cutoff))).all())


async def _expire_counted(session: AsyncSession, cutoffs: Cutoffs) -> int:
    old = await _old_cycles(session, cutoffs.retention)
    await aggregates.forget_cycles(session, old)
    return len(old)


async def _read_recipients(session: AsyncSession, who: Subject, _org: OrgConfig) -> list:
    rows = await session.exec(
        select(CycleRecipient).where(CycleRecipient.aad_object_id == who.aad_object_id)
    )
    return list(rows.all())


async def _erase_recipients(session: AsyncSession, who: Subject) -> int:
    """Closed cycles: the rows go. Open ones: the row stays (so the cycle's counts hold) but
    says nothing of them, and no reminder follows."""
    open_cycles = select(Cycle.id).where(Cycle.status == OPEN)
    await session.exec(
        update(CycleRecipient)
        .where(
            CycleRecipient.aad_object_id == who.aad_object_id,
            CycleRecipient.cycle_id.in_(open_cycles),
        )
        .values(answered=False, reminded=True)
    )
    result = await session.exec(
        delete(CycleRecipient).where(
            CycleRecipient.aad_object_id == who.aad_object_id,
            CycleRecipient.cycle_id.not_in(open_cycles),
        )
    )
    return result.rowcount or 0


async def _leave_recipients(session: AsyncSession, people: list[str], _c: list[str]) -> None:
    await session.exec(delete(CycleRecipient).where(CycleRecipient.aad_object_id.in_(people)))


async def _expire_recipients(session: AsyncSession, cutoffs: Cutoffs) -> int:
    """The rows of cycles closed before the cutoff; how many cycles that was."""
    old = await _old_cycles(session, cutoffs.retention)
    if old:
        await session.exec(delete(CycleRecipient).where(CycleRecipient.cycle_id.in_(old)))
    return len(old)


# ---- messages, conversation state, links, audit -----------------------------------------------


async def _read_messages(session: AsyncSession, who: Subject, _org: OrgConfig) -> list:
    rows = await session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.aad_object_id == who.aad_object_id)
        .order_by(OutboxMessage.id)
    )
    return list(rows.all())


async def _leave_messages(session: AsyncSession, people: list[str], _c: list[str]) -> None:
    await session.exec(delete(OutboxMessage).where(OutboxMessage.aad_object_id.in_(people)))


async def _expire_messages(session: AsyncSession, cutoffs: Cutoffs) -> int:
    result = await session.exec(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_(FINAL_STATES), OutboxMessage.created_at < cutoffs.retention
        )
    )
    return result.rowcount or 0


async def _read_states(session: AsyncSession, who: Subject, _org: OrgConfig) -> list:
    if not who.conversation_ids:
        return []
    return list(
        (await session.exec(select(StateRecord).where(_state_of(who.conversation_ids)))).all()
    )


async def _erase_states(session: AsyncSession, who: Subject) -> int:
    if not who.conversation_ids:
        return 0
    result = await session.exec(delete(StateRecord).where(_state_of(who.conversation_ids)))
    return result.rowcount or 0


async def _leave_states(
    session: AsyncSession, _people: list[str], conversations: list[str]
) -> None:
    if conversations:
        await session.exec(delete(StateRecord).where(_state_of(conversations)))


async def _expire_states(session: AsyncSession, cutoffs: Cutoffs) -> int:
    result = await session.exec(
        delete(StateRecord).where(StateRecord.updated_at < cutoffs.retention)
    )
    return result.rowcount or 0


async def _read_nothing(_session: AsyncSession, _who: Subject, _org: OrgConfig) -> None:
    return None


async def _erase_links(session: AsyncSession, who: Subject) -> int:
    return await links.forget_person(session, who.aad_object_id)


async def _expire_links(session: AsyncSession, cutoffs: Cutoffs) -> int:
    return await links.forget_before(session, cutoffs.links)


async def _read_audit(session: AsyncSession, who: Subject, _org: OrgConfig) -> list:
    return await audit.entries_about(session, who.aad_object_id)


async def _expire_audit(session: AsyncSession, cutoffs: Cutoffs) -> int:
    return await audit.forget_before(session, cutoffs.audit)


# ---- support requests and HR experts ----------------------------------------------------------


async def _read_requests(session: AsyncSession, who: Subject, _org: OrgConfig) -> list:
    rows = await session.exec(
        select(CoordinatorRequest).where(CoordinatorRequest.requester_aad_id == who.aad_object_id)
    )
    return list(rows.all())


async def _erase_requests(session: AsyncSession, who: Subject) -> int:
    """Open requests go; closed ones keep only that they happened (the coordinator's record)."""
    mine = CoordinatorRequest.requester_aad_id == who.aad_object_id
    pending = await session.exec(
        delete(CoordinatorRequest).where(mine, CoordinatorRequest.status.in_(ACTIVE_STATES))
    )
    await session.exec(
        update(CoordinatorRequest)
        .where(mine)
        .values(requester_name=None, contact_detail=None, note=None)
    )
    return pending.rowcount or 0


async def _read_escalations(session: AsyncSession, who: Subject, _org: OrgConfig) -> list:
    rows = await session.exec(
        select(FaqEscalation).where(FaqEscalation.asker_aad == who.aad_object_id)
    )
    return list(rows.all())


# ---- the inventory ------------------------------------------------------------------------------

INVENTORY: tuple[Holding, ...] = (
    Holding(
        "person",
        "aad_object_id",
        "you",
        on_erasure="kept while the bot is installed for them (needed to reach them)",
        on_leaving="deleted",
        retention="until they leave",
        read=_read_person,
        leave=_leave_person,
    ),
    Holding(
        "conversation",
        "aad_object_id",
        "chats_with_the_bot",
        on_erasure="kept (needed to reach them)",
        on_leaving="deleted",
        retention="until the app is removed there, or they leave",
        read=_read_conversations,
        leave=_leave_conversations,
    ),
    Holding(
        "teammember",
        "aad_object_id",
        "teams_you_are_in",
        on_erasure="kept (the team's roster, refreshed from Teams)",
        on_leaving="already gone: leaving means being in no roster",
        retention="while they are in the team",
        read=_read_teams,
    ),
    Holding(
        "org_team_manager",
        "manager",
        "teams_you_manage",
        on_erasure="kept (the organisation's own import)",
        on_leaving="until the next import",
        retention="until the next import",
        read=_read_managed,
    ),
    Holding(
        "participation",
        "aad_object_id",
        "check_in_choice",
        on_erasure="kept (their choice about check-ins)",
        on_leaving="deleted",
        retention="until they leave",
        read=_read_participation,
        leave=_leave_participation,
    ),
    Holding(
        "checkin_answer",
        "pseudonym",
        "check_ins",
        on_erasure="deleted, with the private notes",
        on_leaving="kept until the retention period (pseudonymous)",
        retention="deleted after the retention period",
        read=_read_answers,
        erase=_erase_answers,
        expire=_expire_answers,
    ),
    Holding(
        "cycle_recipient",
        "aad_object_id",
        "check_ins_sent_to_you",
        on_erasure="closed cycles deleted; open cycles say nothing of them",
        on_leaving="deleted",
        retention="deleted with cycles closed before the retention period",
        read=_read_recipients,
        erase=_erase_recipients,
        leave=_leave_recipients,
        expire=_expire_recipients,
    ),
    Holding(
        "outbox",
        "aad_object_id",
        "messages_sent_to_you",
        on_erasure="kept (delivery records; content is deleted once sent)",
        on_leaving="deleted",
        retention="finished rows deleted after the retention period",
        read=_read_messages,
        leave=_leave_messages,
        expire=_expire_messages,
    ),
    Holding(
        "bot_state",
        "key",
        "conversation_state",
        on_erasure="deleted",
        on_leaving="deleted",
        retention="deleted after the retention period",
        read=_read_states,
        erase=_erase_states,
        leave=_leave_states,
        expire=_expire_states,
    ),
    Holding(
        "frozen_respondent",
        "member",
        "counted_in_team_summaries",
        on_erasure="made anonymous (a random token takes their place)",
        on_leaving="kept until the retention period (pseudonymous)",
        retention="deleted with cycles closed before the retention period",
        read=_read_counted,
        erase=_erase_counted,
        expire=_expire_counted,
    ),
    Holding(
        "coordinator_request",
        "requester_aad_id",
        "requests_to_the_staff_support_coordinator",
        on_erasure="open ones deleted; what they wrote removed from closed ones",
        on_leaving="kept (the coordinator's record)",
        retention="until handled or erased",
        read=_read_requests,
        erase=_erase_requests,
    ),
    Holding(
        "faq_escalation",
        "asker_aad",
        "questions_passed_to_hr_experts",
        on_erasure="kept until answered (to send the answer back); who asked goes then",
        on_leaving="kept until answered",
        retention="who asked is removed once answered",
        read=_read_escalations,
    ),
    Holding(
        "issued_link",
        "aad_object_id",
        "",
        on_erasure="deleted (every link of theirs stops working)",
        on_leaving="deleted a day after issue",
        retention="a day after issue",
        read=_read_nothing,
        erase=_erase_links,
        expire=_expire_links,
    ),
    Holding(
        "audit_log",
        "actor",
        "audit_log",
        on_erasure="kept, and the erasure itself is added (never what was erased)",
        on_leaving="kept",
        retention="deleted after the audit period",
        read=_read_audit,
        expire=_expire_audit,
    ),
)


def holding(table: str) -> Holding:
    return next(h for h in INVENTORY if h.table == table)


async def read_all(session: AsyncSession, who: Subject, org: OrgConfig) -> dict[str, Any]:
    """What each exported table holds about them, by export key."""
    return {h.export: await h.read(session, who, org) for h in INVENTORY if h.export}


async def erase(session: AsyncSession, who: Subject) -> dict[str, int]:
    """Everything erasure removes or makes anonymous, in the caller's transaction; rows by table."""
    return {h.table: await h.erase(session, who) for h in INVENTORY if h.erase}


async def forget_leavers(session: AsyncSession, people: list[str]) -> None:
    """The identity and routing rows of people who left, in the caller's transaction."""
    conversations = list(
        (
            await session.exec(
                select(Conversation.id).where(Conversation.aad_object_id.in_(people))
            )
        ).all()
    )
    for entry in reversed(INVENTORY):  # dependents first, the person last
        if entry.leave:
            await entry.leave(session, people, conversations)


async def expire(session: AsyncSession, cutoffs: Cutoffs) -> dict[str, int]:
    """Everything past its period, in the caller's transaction; counts by table."""
    return {h.table: await h.expire(session, cutoffs) for h in INVENTORY if h.expire}
