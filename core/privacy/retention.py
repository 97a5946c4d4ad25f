"""Keeping data no longer than needed, and keeping what is kept readable only with current keys.

The nightly job deletes raw answers (with their private notes), the pseudonyms kept for the
differencing rules, who-was-sent-what, and conversation state once they are older than the
retention period (default 12 months); frozen aggregates stay. People who have left (gone from every
roster the bot sees, and the app uninstalled) lose their identity and routing rows.
`wellbeing-bot secrets rotate` re-encrypts everything under the newest data key.
"""

from __future__ import annotations

import calendar
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from core.privacy import persondata
from core.privacy.secrets import SecretsError
from core.store import audit
from core.store.models import Person, StateRecord, TeamMember
from core.store.outbox import SEALED, OutboxMessage
from core.store.supportdata import CoordinatorRequest
from core.store.wellbeing import CheckinAnswer

log = logging.getLogger(__name__)

NIGHTLY_HOUR = 2
"""The job does its work in the organisation's 02:00 hour, when almost nobody is chatting."""


LINK_RETENTION = timedelta(days=1)
"""Signed links last minutes; their records go the next night."""


def months_before(moment: datetime, months: int) -> datetime:
    """The same time `months` calendar months earlier (the day clamped to the month's end)."""
    year, month = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + year, month + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class RetentionReport:
    """How many rows of each kind went (counts only, for the log)."""

    answers: int
    cycles: int
    states: int
    messages: int
    audit_entries: int
    people: int


async def run(services, now: datetime) -> RetentionReport:
    """Delete what is past its retention period, and the routing rows of people who left (each
    table as core/privacy/persondata.py's inventory says)."""
    privacy = services.org.privacy
    cutoffs = persondata.Cutoffs(
        retention=months_before(now, privacy.retention_months),
        audit=months_before(now, privacy.audit_retention_months),
        links=now - LINK_RETENTION,
    )
    async with services.sessions() as session:
        expired = await persondata.expire(session, cutoffs)
        people = await _forget_leavers(session)
        await session.commit()
    report = RetentionReport(
        answers=expired["checkin_answer"],
        cycles=expired["cycle_recipient"],
        states=expired["bot_state"],
        messages=expired["outbox"],
        audit_entries=expired["audit_log"],
        people=people,
    )
    log.info(
        "retention: %d answer(s), %d cycle(s) of routing, %d state document(s), %d message(s), "
        "%d audit entr(ies) and %d person(s) who left removed",
        report.answers,
        report.cycles,
        report.states,
        report.messages,
        report.audit_entries,
        report.people,
    )
    return report


async def _forget_leavers(session) -> int:
    """People in no roster with the app uninstalled: drop their identity and routing rows."""
    in_rosters = select(TeamMember.aad_object_id)
    leavers = list(
        (
            await session.exec(
                select(Person.aad_object_id).where(
                    Person.personal_installed.is_(False),
                    Person.aad_object_id.not_in(in_rosters),
                )
            )
        ).all()
    )
    if leavers:
        await persondata.forget_leavers(session, leavers)
    return len(leavers)


async def nightly(services) -> None:
    """The scheduled job: runs hourly, does the work in the organisation's 02:00 hour."""
    now = services.clock()
    local = now.astimezone(ZoneInfo(services.org.organisation.timezone))
    if local.hour == NIGHTLY_HOUR:
        await run(services, now)


# ---- key rotation --------------------------------------------------------------------------


def _reencrypt_value(secrets, value: Any) -> tuple[Any, int]:
    """Re-encrypt every Fernet token inside a JSON value; returns it and how many changed."""
    if isinstance(value, dict):
        changed = 0
        out = {}
        for key, item in value.items():
            out[key], n = _reencrypt_value(secrets, item)
            changed += n
        return out, changed
    if isinstance(value, list):
        pairs = [_reencrypt_value(secrets, item) for item in value]
        return [p[0] for p in pairs], sum(p[1] for p in pairs)
    if isinstance(value, str) and value.startswith("gAAAAA"):
        try:
            return secrets.reencrypt(value), 1
        except (SecretsError, ValueError):
            return value, 0
    return value, 0


async def reencrypt_all(services, now: datetime) -> dict[str, int]:
    """After a new data key was put first: re-encrypt notes, state, requests and sealed queued
    messages under it."""
    secrets = services.secrets
    counts = {"notes": 0, "states": 0, "requests": 0, "queued messages": 0}
    async with services.sessions() as session:
        for answer in (
            await session.exec(select(CheckinAnswer).where(CheckinAnswer.note.is_not(None)))
        ).all():
            answer.note = secrets.reencrypt(answer.note)
            session.add(answer)
            counts["notes"] += 1
        for state in (await session.exec(select(StateRecord))).all():
            document, changed = _reencrypt_value(secrets, json.loads(state.document))
            if changed:
                state.document = json.dumps(document, sort_keys=True)
                session.add(state)
                counts["states"] += 1
        counts["requests"] = await _reencrypt_requests(session, secrets)
        counts["queued messages"] = await _reencrypt_sealed_messages(session, secrets)
        audit.record(session, actor="cli", action=audit.SECRETS_ROTATE, at=now)
        await session.commit()
    return counts


async def _reencrypt_requests(session, secrets) -> int:
    changed = 0
    for request in (await session.exec(select(CoordinatorRequest))).all():
        touched = False
        for column in ("requester_name", "contact_detail", "note"):
            value, n = _reencrypt_value(secrets, getattr(request, column))
            if n:
                setattr(request, column, value)
                touched = True
        if touched:
            session.add(request)
            changed += 1
    return changed


async def _reencrypt_sealed_messages(session, secrets) -> int:

    changed = 0
    for message in (
        await session.exec(select(OutboxMessage).where(OutboxMessage.payload.startswith(SEALED)))
    ).all():
        token = message.payload.removeprefix(SEALED)
        message.payload = SEALED + secrets.reencrypt(token)
        session.add(message)
        changed += 1
    return changed
