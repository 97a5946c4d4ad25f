"""Check-in cycles: each Wellbeing Wednesday, who it was addressed to, and its delivery counts."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from sqlalchemy import Column, Date, func
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.store.models import UTCDateTime
from core.store.outbox import BLOCKED_ERRORS, OutboxMessage

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


async def cycle_counts(session: AsyncSession, cycle_id: int) -> dict[str, int]:
    """One cycle's check-ins by status ("sent", "retrying", …), its reminders ("reminders
    sent", …), how many people it was for and answered, and how many of them Teams said had
    blocked the bot when its check-in or reminder was sent ("blocked")."""
    rows = (
        await session.exec(
            select(OutboxMessage.purpose, OutboxMessage.status, func.count())
            .where(OutboxMessage.cycle_id == cycle_id)
            .group_by(OutboxMessage.purpose, OutboxMessage.status)
        )
    ).all()
    answered = (
        await session.exec(
            select(func.count())
            .select_from(CycleRecipient)
            .where(CycleRecipient.cycle_id == cycle_id, CycleRecipient.answered.is_(True))
        )
    ).one()
    addressed = (
        await session.exec(
            select(func.count())
            .select_from(CycleRecipient)
            .where(CycleRecipient.cycle_id == cycle_id)
        )
    ).one()
    blocked = (
        await session.exec(
            select(func.count(func.distinct(OutboxMessage.aad_object_id))).where(
                OutboxMessage.cycle_id == cycle_id, OutboxMessage.last_error.in_(BLOCKED_ERRORS)
            )
        )
    ).one()
    counts: Counter[str] = Counter()
    for purpose, status, count in rows:
        counts[status if purpose == "checkin" else f"reminders {status}"] += count
    counts["people"] = addressed
    counts["answered"] = answered
    counts["blocked"] = blocked
    return dict(counts)


async def cycle_dates(session: AsyncSession) -> dict[int, date]:
    """Each cycle's Wellbeing Wednesday, by id (how a person's export names their check-ins)."""
    return {c.id: c.scheduled_for for c in (await session.exec(select(Cycle))).all()}
