"""Leases with deadlines in the database: one scheduler leader among replicas, and a count of
live senders so they can share Teams' per-tenant rate between them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, delete, or_, select, update
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import upsert_insert
from core.store.models import UTCDateTime


class Lease(SQLModel, table=True):
    """A named lease with a deadline: the scheduler leader, and each live sender's heartbeat.

    A holder that dies simply stops renewing; another takes over once the deadline passes, so
    takeover is bounded by the lease length (no reliance on TCP keepalive).
    """

    name: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=200)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


LEADER = "scheduler-leader"
SENDER_PREFIX = "sender:"


async def acquire(
    session: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew `name` for `holder` until now + ttl; False while someone else holds it."""
    taken = await session.exec(
        update(Lease)
        .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
        .returning(Lease.name)
    )
    if taken.first() is not None:
        await session.commit()
        return True
    created = await session.exec(
        upsert_insert(session, Lease)
        .values(name=name, holder=holder, expires_at=now + ttl)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(Lease.name)
    )
    won = created.first() is not None
    await session.commit()
    return won


async def release(session: AsyncSession, name: str, holder: str) -> None:
    """Give a lease up at once (a graceful shutdown), so another can take over without waiting."""
    await session.exec(delete(Lease).where(Lease.name == name, Lease.holder == holder))
    await session.commit()


async def live_senders(session: AsyncSession, now: datetime) -> list[str]:
    """The holders of current sender heartbeats, in a fixed order every replica agrees on, so
    each can take its place in the shared sending timetable."""
    holders = await session.exec(
        select(Lease.holder)
        .where(Lease.name.startswith(SENDER_PREFIX), Lease.expires_at >= now)
        .order_by(Lease.holder)
    )
    return list(holders.scalars().all())
