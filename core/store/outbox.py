"""The durable outbox every proactive message goes through: enqueue in the same transaction as the
reason to send, claim with a lease, record the outcome. A message is sent at most once unless its
sender dies mid-send. Features write to it; the sender (scheduler/sender.py) drains it."""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Index,
    Text,
    and_,
    bindparam,
    or_,
    select,
    text,
    update,
)
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import is_postgres, upsert_insert
from core.events import ChannelPost, PersonalChat, Recipient, Reply, reply_payload
from core.privacy.secrets import Secrets, SecretsError
from core.store.models import UTCDateTime
from core.transport import SendOutcome

# Outbox states. queued/retrying wait for a sender; sending is leased to one sender; held waits
# for an admin's release; the rest are final.
QUEUED, SENDING, RETRYING, HELD = "queued", "sending", "retrying", "held"
SENT, FAILED, UNREACHABLE, ABORTED = "sent", "failed", "unreachable", "aborted"
PENDING_STATES = (QUEUED, RETRYING)
FINAL_STATES = (SENT, FAILED, UNREACHABLE, ABORTED)
# The predicates of the outbox's partial indexes (migration 0008): waiting for a sender, and
# leased to one. The claim queries repeat them exactly.
PENDING_WHERE = "status IN ('queued', 'retrying')"
LEASED_WHERE = "status = 'sending'"


class OutboxMessage(SQLModel, table=True):
    """One message to deliver, written in the same transaction as the reason to send it."""

    __tablename__ = "outbox"
    # Two partial indexes, one per claim query, each matching its WHERE exactly so a claim reads
    # only the rows it takes (the planner stops at LIMIT); a row is in neither once it is final,
    # and no index covers a column every update changes beyond what the claim needs.
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "next_attempt_at",
            "id",
            postgresql_where=text(PENDING_WHERE),
            sqlite_where=text(PENDING_WHERE),
        ),
        Index(
            "ix_outbox_leased",
            "lease_until",
            postgresql_where=text(LEASED_WHERE),
            sqlite_where=text(LEASED_WHERE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str | None = Field(default=None, unique=True, max_length=256)
    purpose: str = Field(max_length=32)
    tenant_id: str = Field(max_length=64)
    aad_object_id: str | None = Field(default=None, index=True, max_length=64)
    conversation_id: str | None = Field(default=None, max_length=512)
    thread_id: str | None = Field(default=None, max_length=256)
    payload: str = Field(sa_column=Column(Text, nullable=False), description="the reply as JSON")
    cycle_id: int | None = Field(default=None, index=True)
    status: str = Field(default=QUEUED, max_length=16)
    attempts: int = Field(default=0)
    reclaimed: int = Field(
        default=0, description="times taken back from a sender that died mid-send"
    )
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    claimed_by: str | None = Field(default=None, max_length=128)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=200)
    sent_activity_id: str | None = Field(default=None, max_length=256)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


RETRYABLE = frozenset({0, 412, 429, 500, 502, 503, 504})
DELIVERED_PAYLOAD = "{}"
"""What a final message keeps of its payload: nothing. Delivery and reports need its status,
times, purpose and counts; the words (a person's question, a coordinator's card) go at once
instead of staying a year until retention."""
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


BLOCKED_CODES = frozenset({"ConversationBlockedByUser", "MessageWritesBlocked"})
"""403s that say the person blocked the bot (MessageWritesBlocked also covers an uninstall)."""
GONE_CODES = BLOCKED_CODES | {
    "BotDisabledByAdmin",
    "BotNotInConversationRoster",
    "ForbiddenOperationException",
}
"""403s Teams documents as final until the person reinstalls or talks to the bot again. Any
other 403 (InvalidBotApiHost, NotEnoughPermissions, none at all) fails that message only; the
person is marked unreachable after REFUSALS_BEFORE_UNREACHABLE of them in a row."""
REFUSALS_BEFORE_UNREACHABLE = 3


def blocked_error(code: str) -> str:
    """`last_error` of a message refused because the person blocked the bot (counted per cycle)."""
    return f"HTTP 403 {code}"


BLOCKED_ERRORS = frozenset(blocked_error(code) for code in BLOCKED_CODES)


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
    now: datetime,
    not_before: datetime | None = None,
    secrets: Secrets | None = None,
) -> bool:
    """Add a message (in the caller's transaction). False when `dedupe_key` was already queued.
    With `secrets`, the payload is stored encrypted (for messages carrying what a person said).
    `now` is the caller's clock, never the wall clock: rows stamped by another clock than the
    sender's are never due, or due at once."""
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
    now: datetime,
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


def _pending_and_due(now: datetime) -> ColumnElement[bool]:
    """Waiting for a sender and due: the predicate of `ix_outbox_pending`, plus the time."""
    return and_(OutboxMessage.status.in_(PENDING_STATES), OutboxMessage.next_attempt_at <= now)


def _lease_expired(now: datetime) -> ColumnElement[bool]:
    """Leased to a sender that did not settle it in time (it died): `ix_outbox_leased`."""
    return and_(OutboxMessage.status == SENDING, OutboxMessage.lease_until < now)


async def _take(
    session: AsyncSession,
    which: ColumnElement[bool],
    order: Sequence[Any],
    limit: int,
    values: dict[str, Any],
) -> list[OutboxMessage]:
    """WITH chosen AS (SELECT … ORDER BY … LIMIT n) UPDATE … WHERE id IN chosen RETURNING the
    rows: two senders never take the same row (SQLite runs it atomically; PostgreSQL's SKIP
    LOCKED lets every replica take rows at once), and `which` is rechecked on the row as updated.

    The choice is a materialized CTE, made once: as a plain `IN (subquery)` PostgreSQL may run
    the subquery again for each row it updates (a nested-loop semi-join), and since SKIP LOCKED
    passes over the rows this very statement has just updated, each run yields new ones and the
    claim takes far more than `limit`."""
    chosen = select(OutboxMessage.id).where(which).order_by(*order).limit(limit)
    if is_postgres(session):
        chosen = chosen.with_for_update(skip_locked=True).cte("chosen").prefix_with("MATERIALIZED")
    else:
        chosen = chosen.cte("chosen")
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(select(chosen.c.id)), which)
        .values(**values)
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    return list((await session.exec(statement)).scalars())


async def claim(
    session: AsyncSession,
    worker: str,
    limit: int,
    now: datetime,
    lease: timedelta,
    *,
    reclaim: bool = True,
    holding: Collection[int] = (),
) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this sender and commit; with `reclaim`, first those
    whose sender died (lease run out), counted in `reclaimed`.

    Two queries, each on the partial index that matches its WHERE, so each reads about as many
    index entries as it takes rows (one OR over both, ordered, made PostgreSQL read and sort
    every due row). Expired leases are rare and need no haste, so a sender looks for them only
    now and then (`reclaim`), and never takes back what it still holds itself (`holding`: ids
    claimed and not yet settled, whose outcome may be on its way to the database)."""
    common = {
        "status": SENDING,
        "claimed_by": worker,
        "lease_until": now + lease,
        "attempts": OutboxMessage.attempts + 1,
        "updated_at": now,
    }
    rows: list[OutboxMessage] = []
    if reclaim:
        expired = _lease_expired(now)
        if holding:
            expired = and_(expired, OutboxMessage.id.not_in(sorted(holding)))
        rows += await _take(
            session,
            expired,
            (OutboxMessage.lease_until,),
            limit,
            {**common, "reclaimed": OutboxMessage.reclaimed + 1},
        )
    if len(rows) < limit:
        rows += await _take(
            session,
            _pending_and_due(now),
            (OutboxMessage.next_attempt_at, OutboxMessage.id),
            limit - len(rows),
            common,
        )
    await session.commit()
    return sorted(rows, key=lambda row: row.id)


async def any_unsettled(session: AsyncSession) -> bool:
    """Whether any message still waits for a sender or is being sent: one statement (one
    snapshot, so a row moving between the two states is not missed), each half the first entry
    of its partial index (ordered as the index is, so the planner reads it rather than the
    table, even when its statistics say most rows are still waiting)."""
    waiting = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(PENDING_STATES))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )
    sending = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == SENDING)
        .order_by(OutboxMessage.lease_until)
        .limit(1)
    )
    probe = select(
        or_(waiting.scalar_subquery().is_not(None), sending.scalar_subquery().is_not(None))
    )
    return bool((await session.exec(probe)).scalar())


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
    elif outcome.status == 404:
        row.status, row.last_error = UNREACHABLE, "bot removed or conversation gone"
    elif outcome.status == 403 and outcome.code in GONE_CODES:
        row.status, row.last_error = UNREACHABLE, f"HTTP 403 {outcome.code}"
    elif outcome.status == 403:
        row.status = FAILED
        row.last_error = f"HTTP 403 {outcome.code}" if outcome.code else "HTTP 403"
    elif outcome.status in RETRYABLE and row.attempts < policy.max_attempts:
        row.status = RETRYING
        row.next_attempt_at = now + timedelta(
            seconds=policy.delay(row.attempts, outcome.retry_after)
        )
        row.last_error = outcome.error or f"HTTP {outcome.status}"
    else:
        row.status = FAILED
        row.last_error = outcome.error or f"HTTP {outcome.status}"
    if row.status in FINAL_STATES:
        row.payload = DELIVERED_PAYLOAD
    return row


_SETTLED_COLUMNS = (
    "status",
    "last_status_code",
    "lease_until",
    "claimed_by",
    "updated_at",
    "sent_at",
    "sent_activity_id",
    "last_error",
    "next_attempt_at",
    "conversation_id",
    "payload",
)


def _settle_statement(*, delivered: bool) -> Any:
    """One UPDATE run for many rows (executemany): every column `settle` may change, by id.

    A delivery is recorded whatever happened to the row since (the message has gone: marking it
    sent is always right). A failure only while the row is still this sender's claim: had the
    lease run out and another sender taken it (and perhaps delivered it), a "retry later" must
    not overwrite that."""
    table = OutboxMessage.__table__
    statement = update(table).where(table.c.id == bindparam("b_id"))
    if not delivered:
        statement = statement.where(
            table.c.status == SENDING, table.c.claimed_by == bindparam("b_worker")
        )
    return statement.values({name: bindparam("b_" + name) for name in _SETTLED_COLUMNS})


async def record_outcomes(
    session: AsyncSession,
    outcomes: Sequence[tuple[OutboxMessage, SendOutcome]],
    now: datetime,
    policy: RetryPolicy,
    worker: str,
) -> list[OutboxMessage]:
    """Settle a batch of sends (in the caller's transaction) from the rows as claimed: at most
    two statements for the whole batch, no read. Returns the settled rows, in order."""
    settled = [settle(row, outcome, now, policy) for row, outcome in outcomes]
    for delivered in (True, False):
        params = [
            {
                "b_id": row.id,
                "b_worker": worker,
                **{"b_" + name: getattr(row, name) for name in _SETTLED_COLUMNS},
            }
            for row, (_, outcome) in zip(settled, outcomes, strict=True)
            if outcome.ok == delivered
        ]
        if params:
            connection = await session.connection()
            await connection.execute(_settle_statement(delivered=delivered), params)
    return settled


async def refused_repeatedly(session: AsyncSession, aad_object_id: str) -> bool:
    """Whether the person's last REFUSALS_BEFORE_UNREACHABLE messages (in personal chat) were
    all refused with a 403 whose code is not a final one: a retry each cycle, then give up."""
    recent = await session.exec(
        select(OutboxMessage.last_status_code)
        .where(
            OutboxMessage.aad_object_id == aad_object_id,
            OutboxMessage.thread_id.is_(None),
            OutboxMessage.status.in_((SENT, FAILED, UNREACHABLE)),
        )
        .order_by(OutboxMessage.updated_at.desc(), OutboxMessage.id.desc())
        .limit(REFUSALS_BEFORE_UNREACHABLE)
    )
    codes = list(recent.scalars().all())
    return len(codes) == REFUSALS_BEFORE_UNREACHABLE and all(code == 403 for code in codes)


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
