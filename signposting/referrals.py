"""Confidential requests for the staff support coordinator to get in touch.

The only module that reads coordinator requests. Every function here is scoped to the person
who made a request or to a configured coordinator: there is no query by team or by manager, so
no manager-facing code path can reach a request (docs/privacy.md, "Confidentiality is the product").
Nothing a person wrote is logged.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.config.orgconfig import OrgConfig
from core.context import Services
from core.events import Card, PersonalChat, Reply
from core.privacy import counting
from core.privacy.secrets import Secrets
from core.store import audit, directory
from core.store.models import Person
from core.store.outbox import enqueue_reply
from core.store.supportdata import (
    ACTIVE_STATES,
    CLOSED,
    CONTACTED,
    OPEN,
    WITHDRAWN,
    CoordinatorRequest,
)

log = logging.getLogger(__name__)

CONTACT_METHODS = {"teams": "A message in Teams", "phone": "A phone call", "email": "An email"}
CONTACT_TIMES = {
    "any": "Any time in working hours",
    "morning": "In the morning",
    "afternoon": "In the afternoon",
    "end_of_day": "Towards the end of the day",
}
STATUS_WORDS = {
    OPEN: "Waiting for the coordinator",
    CONTACTED: "The coordinator has been in touch",
    CLOSED: "Closed",
    WITHDRAWN: "Withdrawn by you",
}
MAX_NAME, MAX_DETAIL, MAX_NOTE = 200, 320, 2000
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FormError(ValueError):
    """A request form that cannot be sent as it is; the message says what to change."""


class NoCoordinator(Exception):
    """No coordinator can be reached through Teams: none configured, or none has a chat with us."""


@dataclass(frozen=True)
class RequestForm:
    """What the person filled in, checked."""

    token: str
    method: str
    time: str
    name: str
    detail: str | None
    note: str | None


def read_form(value: dict[str, Any]) -> RequestForm:
    """Check a submitted request form, raising FormError with a plain sentence if it won't do."""
    token = str(value.get("token") or "").strip()
    method = str(value.get("method") or "").strip()
    time = str(value.get("time") or "any").strip()
    name = " ".join(str(value.get("name") or "").split())
    detail = str(value.get("detail") or "").strip() or None
    note = str(value.get("note") or "").strip() or None
    if not token or len(token) > 64:
        raise FormError("That form has expired. Say **support** to start again.")
    if method not in CONTACT_METHODS:
        raise FormError("Please choose how you'd like the coordinator to contact you.")
    if time not in CONTACT_TIMES:
        raise FormError("Please choose when suits you best.")
    if not name:
        raise FormError("Please tell us your name, so the coordinator knows who to contact.")
    if len(name) > MAX_NAME:
        raise FormError("That name is too long. Please shorten it.")
    if method == "phone" and not (detail and _PHONE.match(detail)):
        raise FormError("Please give a phone number the coordinator can call.")
    if method == "email" and not (detail and _EMAIL.match(detail)):
        raise FormError("Please give an email address the coordinator can write to.")
    if detail and len(detail) > MAX_DETAIL:
        raise FormError("That phone number or email address is too long.")
    if note and len(note) > MAX_NOTE:
        raise FormError(f"Please keep the note under {MAX_NOTE} characters.")
    return RequestForm(token, method, time, name, detail if method != "teams" else None, note)


async def _reachable(session: AsyncSession, refs: list[str]) -> list[str]:
    """AAD ids of the people named who have a personal chat with the bot that still works."""
    found: list[str] = []
    for ref in refs:
        aad = await directory.resolve_person(session, ref)
        person = await session.get(Person, aad) if aad else None
        if (
            person is not None
            and person.personal_conversation_id
            and person.unreachable_since is None
            and person.aad_object_id not in found
        ):
            found.append(person.aad_object_id)
    return found


def coordinators_configured(org: OrgConfig) -> bool:
    """Whether the organisation names any coordinator at all (no database needed)."""
    roles = org.roles.coordinators
    return bool(roles.primary or roles.backup)


async def reachable_coordinators(session: AsyncSession, org: OrgConfig) -> list[str]:
    """Who a new request goes to: the primary coordinators we can reach, else the backups."""
    roles = org.roles.coordinators
    return await _reachable(session, roles.primary) or await _reachable(session, roles.backup)


async def is_coordinator(session: AsyncSession, org: OrgConfig, aad_object_id: str) -> bool:
    """Whether this person is a configured coordinator (primary or backup)."""
    roles = org.roles.coordinators
    for ref in (*roles.primary, *roles.backup):
        if await directory.resolve_person(session, ref) == aad_object_id:
            return True
    return False


def local_time(moment: datetime | None, org: OrgConfig) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(org.organisation.timezone))
    return local.strftime("%a %-d %b, %H:%M")


def seal(secrets: Secrets, value: str | None) -> str | None:
    """What the person chose to share, encrypted at rest like every other free text."""
    return secrets.encrypt(value) if value else None


def unseal(secrets: Secrets, value: str | None) -> str | None:
    return secrets.decrypt(value) if value else None


def coordinator_card(
    row: CoordinatorRequest,
    org: OrgConfig,
    secrets: Secrets,
    *,
    upn: str | None = None,
    reminder: bool = False,
) -> Card:
    """The card a coordinator sees: who, how and when to contact them, what they chose to share."""
    method = CONTACT_METHODS.get(row.contact_method, row.contact_method)
    name, detail, note = (
        unseal(secrets, row.requester_name),
        unseal(secrets, row.contact_detail),
        unseal(secrets, row.note),
    )
    facts = [
        {"title": "Name", "value": name or "(not given)"},
        {"title": "Contact by", "value": method},
    ]
    if detail:
        facts.append(
            {
                "title": "Phone" if row.contact_method == "phone" else "Email",
                "value": detail,
            }
        )
    if row.contact_method == "teams" and upn:
        facts.append({"title": "Teams", "value": upn})
    facts += [
        {"title": "When", "value": CONTACT_TIMES.get(row.contact_time, row.contact_time)},
        {"title": "Sent", "value": local_time(row.created_at, org)},
        {"title": "Status", "value": _coordinator_status(row, org)},
    ]
    hours = org.support.coordinator_requests.remind_backup_after_hours
    heading = (
        f"Not picked up yet: request #{row.id} has waited more than {hours:g} hours"
        if reminder
        else f"Request #{row.id}: please get in touch"
    )
    context = {
        "heading": heading,
        "intro": "Someone has asked the staff support coordinator to contact them.",
        "facts": facts,
        "note": note or "",
        "privacy": "Only the staff support coordinators can see this. Please don't forward it: "
        "the person's manager is not told, and must not be.",
        "request_id": row.id,
        "chat_link": f"https://teams.microsoft.com/l/chat/0/0?users={upn}"
        if row.contact_method == "teams" and upn
        else "",
        "can_contact": row.status == OPEN,
        "can_close": row.status in ACTIVE_STATES,
    }
    lines = [heading, context["intro"], *(f"{f['title']}: {f['value']}" for f in facts)]
    if note:
        lines.append(f"Their note: {note}")
    return Card("coordinator_request", context, fallback_text="\n".join(lines))


def _coordinator_status(row: CoordinatorRequest, org: OrgConfig) -> str:
    if row.status == CONTACTED:
        return f"Contacted ({local_time(row.contacted_at, org)})"
    if row.status == CLOSED:
        return f"Closed ({local_time(row.closed_at, org)})"
    if row.status == WITHDRAWN:
        return f"Withdrawn by the person ({local_time(row.withdrawn_at, org)}): please don't contact them"
    return "Waiting for a coordinator"


async def upn_of(session: AsyncSession, aad_object_id: str) -> str | None:
    person = await session.get(Person, aad_object_id)
    return person.upn if person is not None else None


def _coordinator_service_id(org: OrgConfig) -> str:
    services = org.support.of_kind("staff_support_coordinator")
    return services[0].id if services else ""


async def _tell(
    session: AsyncSession,
    org: OrgConfig,
    row: CoordinatorRequest,
    people: list[str],
    message: Reply,
    kind: str,
    event: str,
    now: datetime,
    *,
    secrets: Secrets | None = None,
) -> None:
    """Queue one message about a request to each coordinator (once each, whatever retries), and
    count the event without who. With `secrets` the queued copy is encrypted: a card carries the
    person's name, contact detail and note."""
    for person in people:
        await enqueue_reply(
            session,
            row.tenant_id,
            replace(message, to=PersonalChat(person), purpose="coordinator"),
            dedupe_key=f"coordinator-{kind}:{row.id}:{person}",
            now=now,
            secrets=secrets,
        )
    await counting.bump(
        session,
        event,
        now,
        time_zone=org.organisation.timezone,
        service=_coordinator_service_id(org),
    )


async def submit(
    session: AsyncSession,
    org: OrgConfig,
    *,
    tenant_id: str,
    requester: str,
    form: RequestForm,
    now: datetime,
    secrets: Secrets,
) -> tuple[CoordinatorRequest, bool]:
    """Store the request and queue it to the coordinators, in the caller's transaction.

    Returns the request and whether it is new (False: this form was already sent). Raises
    NoCoordinator, storing nothing, when no coordinator can be reached.
    """
    existing = (
        await session.exec(
            select(CoordinatorRequest).where(CoordinatorRequest.form_token == form.token)
        )
    ).first()
    if existing is not None:
        if existing.requester_aad_id != requester:
            raise FormError("That form has expired. Say **support** to start again.")
        return existing, False
    recipients = await reachable_coordinators(session, org)
    if not recipients:
        await counting.bump(
            session,
            counting.COORDINATOR_UNREACHABLE,
            now,
            time_zone=org.organisation.timezone,
            service=_coordinator_service_id(org),
        )
        raise NoCoordinator
    row = CoordinatorRequest(
        form_token=form.token,
        tenant_id=tenant_id,
        requester_aad_id=requester,
        contact_method=form.method,
        contact_time=form.time,
        requester_name=seal(secrets, form.name),
        contact_detail=seal(secrets, form.detail),
        note=seal(secrets, form.note),
        routed_to=json.dumps(recipients),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    upn = await upn_of(session, requester)
    card = coordinator_card(row, org, secrets, upn=upn)
    await _tell(
        session,
        org,
        row,
        recipients,
        Reply(card=card),
        "request",
        counting.COORDINATOR_REQUESTED,
        now,
        secrets=secrets,
    )
    log.info("coordinator request %s sent to %d coordinator(s)", row.id, len(recipients))
    return row, True


async def requests_of(
    session: AsyncSession, requester: str, limit: int = 10
) -> list[CoordinatorRequest]:
    """A person's own requests, newest first."""
    query = (
        select(CoordinatorRequest)
        .where(CoordinatorRequest.requester_aad_id == requester)
        .order_by(CoordinatorRequest.created_at.desc(), CoordinatorRequest.id.desc())
        .limit(limit)
    )
    return list((await session.exec(query)).all())


async def own_request(
    session: AsyncSession, request_id: Any, requester: str
) -> CoordinatorRequest | None:
    """A request, only if this person made it."""
    try:
        row = await session.get(CoordinatorRequest, int(request_id))
    except (TypeError, ValueError):
        return None
    return row if row is not None and row.requester_aad_id == requester else None


async def withdraw(
    session: AsyncSession, org: OrgConfig, row: CoordinatorRequest, now: datetime
) -> bool:
    """Withdraw a person's own open request and tell the coordinators who had it not to call."""
    if row.status not in ACTIVE_STATES:
        return False
    row.status, row.withdrawn_at, row.updated_at = WITHDRAWN, now, now
    session.add(row)
    told = json.loads(row.routed_to)
    if row.backup_reminded_at is not None:
        told += [
            b for b in await _reachable(session, org.roles.coordinators.backup) if b not in told
        ]
    notice = Reply(
        text=f"Request #{row.id} has been withdrawn by the person who made it. "
        "Please don't contact them about it."
    )
    await _tell(session, org, row, told, notice, "withdrawn", counting.COORDINATOR_WITHDRAWN, now)
    return True


async def coordinator_action(
    session: AsyncSession,
    org: OrgConfig,
    *,
    request_id: Any,
    coordinator: str,
    action: str,
    now: datetime,
) -> tuple[CoordinatorRequest | None, str]:
    """A coordinator marks a request contacted or closed. Returns the request (None when this
    person may not see it) and a sentence for them."""
    if not await is_coordinator(session, org, coordinator):
        return None, "That button is for the staff support coordinators."
    try:
        row = await session.get(CoordinatorRequest, int(request_id))
    except (TypeError, ValueError):
        row = None
    if row is None:
        return None, "I can't find that request any more."
    if row.status == WITHDRAWN:
        return row, "The person withdrew this request, so there's no need to contact them."
    if action == CONTACTED and row.status == OPEN:
        row.status, row.contacted_at = CONTACTED, now
        event, said = counting.COORDINATOR_CONTACTED, "Marked as contacted. Thank you."
    elif action == CLOSED and row.status in ACTIVE_STATES:
        row.status, row.closed_at = CLOSED, now
        event, said = counting.COORDINATOR_CLOSED, "Closed. Thank you."
    else:
        return row, f"This request is already {row.status}."
    row.handled_by, row.updated_at = coordinator, now
    session.add(row)
    # Who acted on whose request, in the audit log the person sees in their own export.
    audit.record(
        session,
        actor=coordinator,
        action=audit.COORDINATOR_ACCESS,
        at=now,
        subject=row.requester_aad_id,
    )
    await counting.bump(
        session,
        event,
        now,
        time_zone=org.organisation.timezone,
        service=_coordinator_service_id(org),
    )
    log.info("coordinator request %s marked %s", row.id, row.status)
    return row, said


async def remind_unpicked_requests(services: Services, now: datetime) -> int:
    """Tell the backup coordinators about requests nobody has picked up in the configured time.

    A scheduler job: run it every few minutes. Each request is reminded about once. Returns how
    many requests the backups were told about.
    """
    org = services.org
    cutoff = now - timedelta(hours=org.support.coordinator_requests.remind_backup_after_hours)
    reminded = 0
    async with services.sessions() as session:
        rows = (
            await session.exec(
                select(CoordinatorRequest)
                .where(
                    CoordinatorRequest.status == OPEN,
                    CoordinatorRequest.created_at <= cutoff,
                    CoordinatorRequest.backup_reminded_at.is_(None),
                )
                .order_by(CoordinatorRequest.created_at)
            )
        ).all()
        if not rows:
            return 0
        backups = await _reachable(session, org.roles.coordinators.backup)
        for row in rows:
            row.backup_reminded_at, row.updated_at = now, now
            session.add(row)
            if not backups:
                continue
            upn = await upn_of(session, row.requester_aad_id)
            card = coordinator_card(row, org, services.secrets, upn=upn, reminder=True)
            await _tell(
                session,
                org,
                row,
                backups,
                Reply(card=card),
                "reminder",
                counting.COORDINATOR_REMINDED,
                now,
                secrets=services.secrets,
            )
            reminded += 1
        await session.commit()
    if len(rows) > reminded:
        log.warning(
            "%d coordinator request(s) not picked up in time and no backup coordinator is "
            "reachable in Teams",
            len(rows) - reminded,
        )
    if reminded:
        services.wake_sender()
    return reminded
