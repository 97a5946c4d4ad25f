"""Delivery tables: the durable outbox every proactive message goes through."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, utcnow

# Outbox states. queued/retrying wait for a sender; sending is leased to one sender; held waits
# for an admin's release; the rest are final.
QUEUED, SENDING, RETRYING, HELD = "queued", "sending", "retrying", "held"
SENT, FAILED, UNREACHABLE, ABORTED = "sent", "failed", "unreachable", "aborted"
PENDING_STATES = (QUEUED, RETRYING)
FINAL_STATES = (SENT, FAILED, UNREACHABLE, ABORTED)


class OutboxMessage(SQLModel, table=True):
    """One message to deliver, written in the same transaction as the reason to send it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

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
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    claimed_by: str | None = Field(default=None, max_length=128)
    last_status_code: int | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=200)
    sent_activity_id: str | None = Field(default=None, max_length=256)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
