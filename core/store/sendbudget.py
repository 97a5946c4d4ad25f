"""One sending timetable per tenant, kept in the database, that every replica and both paths
(the outbox's fan-out and the replies in a turn) take their slots from: Teams applies one limit
to everything an app sends in a tenant (about 50 requests a second), whichever process sends.

The row holds the time of the tenant's next free slot. Taking a slot is one atomic statement
(an upsert that moves the row on by one interval and returns it), so two replicas never get the
same slot, on SQLite and PostgreSQL alike. Times are seconds of the wall clock the caller
passes in; replicas' clocks must agree to a few milliseconds (NTP).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Float, func, literal, select
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import is_postgres, upsert_insert


class SendBudget(SQLModel, table=True):
    """A tenant's sending timetable: when its next request to Teams may go."""

    __tablename__ = "send_budget"

    tenant_id: str = Field(primary_key=True, max_length=64)
    next_slot: float = Field(
        sa_column=Column(Float(precision=53), nullable=False),
        description="seconds since the epoch of the next free slot",
    )


TOLERANCE = 1e-4
"""Seconds a slot may be beyond `within` and still count as within (float rounding at 1e9 s)."""


@dataclass(frozen=True)
class Slot:
    """A slot taken (`taken`) at `at`; or, when not taken, the earliest time to ask again."""

    at: float
    taken: bool


async def take(
    session: AsyncSession,
    tenant_id: str,
    *,
    now: float,
    interval: float,
    within: float | None = None,
    count: int = 1,
) -> Slot:
    """Take the tenant's next free slot, max(next free, now), and `count - 1` more after it,
    `interval` apart, moving the timetable on past them; commits. With `within`, only when
    the first is at most that many seconds ahead: the fan-out takes none that far, so the
    timetable ahead stays free for replies, which take the next free slot however far."""
    table = SendBudget.__table__
    greatest = func.greatest if is_postgres(session) else func.max
    start = greatest(table.c.next_slot, literal(now, Float(precision=53)))
    statement = (
        upsert_insert(session, SendBudget)
        .values(tenant_id=tenant_id, next_slot=now + count * interval)
        .on_conflict_do_update(
            index_elements=["tenant_id"],
            set_={"next_slot": start + count * interval},
            where=None if within is None else start <= now + within + TOLERANCE,
        )
        .returning(table.c.next_slot)
    )
    taken = (await session.exec(statement)).scalar()
    if taken is not None:
        await session.commit()
        return Slot(taken - count * interval, True)
    booked = (
        await session.exec(select(table.c.next_slot).where(table.c.tenant_id == tenant_id))
    ).scalar()
    await session.commit()
    return Slot((booked or now) - (within or 0.0), False)
