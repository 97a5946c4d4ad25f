"""The durable outbox: enqueue in the same transaction as the reason to send, claim with a lease,
record the outcome. A message is sent at most once unless its sender dies mid-send."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import upsert_insert
from core.models import utcnow
from core.privacy import Secrets, SecretsError
from dialogs.events import ChannelPost, PersonalChat, Recipient, Reply, reply_payload
from scheduler.models import (
    FAILED,
    PENDING_STATES,
    RETRYING,
    SENDING,
    SENT,
    UNREACHABLE,
    OutboxMessage,
)
from scheduler.transport import SendOutcome

RETRYABLE = frozenset({0, 412, 429, 500, 502, 503, 504})
SEALED = "sealed:"
"""Marks a payload stored encrypted: what a person told the coordinator, say."""


class SealedPayloadError(Exception):
    """A sealed payload this sender has no key to open."""


def pack(payload: dict[str, Any], secrets: Secrets | None = None) -> str:
    """The stored form of a payload: JSON, encrypted when `secrets` is given."""
    text = json.dumps(payload, sort_keys=True)
    return SEALED + secrets.encrypt(text) if secrets is not None else text


def unpack(stored: str, secrets: Secrets | None) -> dict[str, Any]:
    """The payload to send, from its stored form."""
    if not stored.startswith(SEALED):
        return json.loads(stored)
    if secrets is None:
        raise SealedPayloadError("sealed message and no data key")
    try:
        return json.loads(secrets.decrypt(stored.removeprefix(SEALED)))
    except SecretsError as error:
        raise SealedPayloadError(str(error)) from error


PERMANENT_GONE = frozenset({403, 404})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter, bounded; Retry-After wins when it asks for longer."""

    max_attempts: int = 6
    base_seconds: float = 1.0
    max_seconds: float = 300.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random = random) -> float:
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        jittered = rng.uniform(ceiling / 2, ceiling)
        return max(jittered, retry_after or 0.0)


async def enqueue(
    session: AsyncSession,
    *,
    tenant_id: str,
    to: Recipient,
    payload: dict[str, Any],
    purpose: str,
    dedupe_key: str | None = None,
    cycle_id: int | None = None,
    status: str = "queued",
    not_before: datetime | None = None,
    now: datetime | None = None,
    secrets: Secrets | None = None,
) -> bool:
    """Add a message (in the caller's transaction). False when `dedupe_key` was already queued.
    With `secrets`, the payload is stored encrypted (for messages carrying what a person said)."""
    now = now or utcnow()
    values: dict[str, Any] = {
        "next_attempt_at": not_before or now,
        "created_at": now,
        "updated_at": now,
        "purpose": purpose,
        "tenant_id": tenant_id,
        "payload": pack(payload, secrets),
        "dedupe_key": dedupe_key,
        "cycle_id": cycle_id,
        "status": status,
    }
    if isinstance(to, PersonalChat):
        values["aad_object_id"] = to.aad_object_id
    elif isinstance(to, ChannelPost):
        values["conversation_id"], values["thread_id"] = to.conversation_id, to.thread_id
    else:
        raise TypeError(f"cannot enqueue to {to!r}")
    statement = upsert_insert(session, OutboxMessage).values(**values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    # RETURNING says whether a row went in; rowcount is not reliable across drivers here.
    result = await session.exec(statement.returning(OutboxMessage.id))
    return result.first() is not None


async def enqueue_reply(
    session: AsyncSession,
    tenant_id: str,
    reply: Reply,
    *,
    purpose: str | None = None,
    dedupe_key: str | None = None,
    cycle_id: int | None = None,
    status: str = "queued",
    now: datetime | None = None,
    not_before: datetime | None = None,
    secrets: Secrets | None = None,
) -> bool:
    """Queue a Reply addressed with `to` (in the caller's transaction; call the sender's wake
    after); `secrets` stores it encrypted."""
    if reply.to is None:
        raise ValueError("a queued reply needs a recipient (`to`)")
    return await enqueue(
        session,
        tenant_id=tenant_id,
        to=reply.to,
        payload=reply_payload(reply),
        purpose=purpose or reply.purpose,
        dedupe_key=dedupe_key,
        cycle_id=cycle_id,
        status=status,
        now=now,
        not_before=not_before,
        secrets=secrets,
    )


async def claim(
    session: AsyncSession, worker: str, limit: int, now: datetime, lease: timedelta
) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this sender, including ones whose sender died.

    One UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING, so two senders never take the same
    row: SQLite runs it atomically, and PostgreSQL's SKIP LOCKED lets every replica drain at once.
    """
    due = or_(
        and_(OutboxMessage.status.in_(PENDING_STATES), OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now),
    )
    chosen = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(chosen.scalar_subquery()), due)
        .values(
            reclaimed=OutboxMessage.reclaimed + case((OutboxMessage.status == SENDING, 1), else_=0),
            status=SENDING,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
            updated_at=now,
        )
        .returning(OutboxMessage.id)
    )
    ids = list((await session.exec(statement)).scalars())
    await session.commit()
    if not ids:
        return []
    rows = await session.exec(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)
    )
    return list(rows.scalars())


def settle(
    row: OutboxMessage, outcome: SendOutcome, now: datetime, policy: RetryPolicy
) -> OutboxMessage:
    """Apply a send's outcome to its row: sent, retry later, unreachable, or failed."""
    row.last_status_code = outcome.status
    row.lease_until, row.claimed_by, row.updated_at = None, None, now
    if outcome.ok:
        row.status, row.sent_at, row.sent_activity_id = SENT, now, outcome.activity_id
        row.last_error = None
        if outcome.conversation_id:
            row.conversation_id = outcome.conversation_id
    elif outcome.status in PERMANENT_GONE:
        row.status, row.last_error = UNREACHABLE, "bot removed or conversation gone"
    elif outcome.status in RETRYABLE and row.attempts < policy.max_attempts:
        row.status = RETRYING
        row.next_attempt_at = now + timedelta(
            seconds=policy.delay(row.attempts, outcome.retry_after)
        )
        row.last_error = outcome.error or f"HTTP {outcome.status}"
    else:
        row.status = FAILED
        row.last_error = outcome.error or f"HTTP {outcome.status}"
    return row


async def release_lease(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    """Hand unsent claimed messages back (a graceful shutdown), without counting an attempt."""
    if not ids:
        return
    await session.exec(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == SENDING)
        .values(
            status=RETRYING,
            lease_until=None,
            claimed_by=None,
            next_attempt_at=now,
            attempts=OutboxMessage.attempts - 1,
        )
    )
    await session.commit()
