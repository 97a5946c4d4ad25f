"""Delivery tables: the durable outbox every proactive message goes through."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, Index, Text, text
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime

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
    aad_object_id: str | None = Field(default=None, max_length=64)
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


# Cycle states: open (sending and accepting answers), held (sending paused by an admin),
# aborted (what was left unsent dropped), closed (answers frozen for reporting).
OPEN, CYCLE_HELD, CYCLE_ABORTED, CLOSED = "open", "held", "aborted", "closed"


class Cycle(SQLModel, table=True):
    """One Wellbeing Wednesday, identified by its scheduled date: the persisted truth of what
    was due, so a restart or a second replica never opens it twice."""

    id: int | None = Field(default=None, primary_key=True)
    scheduled_for: date = Field(sa_column=Column(Date, nullable=False, unique=True))
    status: str = Field(default=OPEN, max_length=16)
    opened_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reminders_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    note_week: int | None = Field(default=None, description="ISO week of the calendar note sent")
    completed_notice_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stall_notice_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class CycleRecipient(SQLModel, table=True):
    """Who a cycle was addressed to and whether a reminder is still due. Internal routing data:
    no manager-facing path reads it."""

    __tablename__ = "cycle_recipient"

    cycle_id: int = Field(primary_key=True, foreign_key="cycle.id", ondelete="CASCADE")
    aad_object_id: str = Field(primary_key=True, max_length=64)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    answered: bool = Field(default=False)
    reminded: bool = Field(default=False)


class Lease(SQLModel, table=True):
    """A named lease with a deadline: the scheduler leader, and each live sender's heartbeat.

    A holder that dies simply stops renewing; another takes over once the deadline passes, so
    takeover is bounded by the lease length (no reliance on TCP keepalive).
    """

    name: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
