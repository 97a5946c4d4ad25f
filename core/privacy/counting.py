"""Counting signposting events per ISO week, service and need, without recording who.

Only what the bot itself sees is counted: a menu need chosen, a need recognised, a service card
shown, a coordinator request made, picked up or closed, the urgent-help card shown, the card
for someone worried about another person shown. Links opened
from a card are invisible to the bot, so they are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from core.db import upsert_insert
from core.store.supportdata import SignpostingCount

MENU_SHOWN = "menu_shown"
NEED_CHOSEN = "need_chosen"
NEED_RECOGNISED = "need_recognised"
SERVICE_SHOWN = "service_shown"
CRISIS_SHOWN = "crisis_shown"
HELPERS_SHOWN = "helpers_shown"
"""The card for someone worried that another person is at risk."""
COORDINATOR_REQUESTED = "coordinator_requested"
COORDINATOR_UNREACHABLE = "coordinator_unreachable"
COORDINATOR_CONTACTED = "coordinator_contacted"
COORDINATOR_CLOSED = "coordinator_closed"
COORDINATOR_WITHDRAWN = "coordinator_withdrawn"
COORDINATOR_REMINDED = "coordinator_reminded"


def iso_week(now: datetime, time_zone: str = "UTC") -> str:
    """The organisation's ISO week for a moment, e.g. '2026-W48'."""
    year, week, _ = now.astimezone(ZoneInfo(time_zone)).isocalendar()
    return f"{year}-W{week:02d}"


async def bump(
    session: AsyncSession,
    event: str,
    now: datetime,
    *,
    time_zone: str = "UTC",
    need: str = "",
    service: str = "",
    by: int = 1,
) -> None:
    """Add to a counter in the caller's transaction (an upsert, safe with several replicas)."""
    values = {
        "week": iso_week(now, time_zone),
        "event": event,
        "need_id": need,
        "service_id": service,
        "count": by,
    }
    insert = upsert_insert(session, SignpostingCount)
    statement = insert.values(**values).on_conflict_do_update(
        index_elements=["week", "event", "need_id", "service_id"],
        set_={"count": SignpostingCount.count + insert.excluded.count},
    )
    await session.exec(statement)


async def bump_each(
    session: AsyncSession,
    events: Iterable[tuple[str, str, str]],
    now: datetime,
    *,
    time_zone: str = "UTC",
) -> None:
    """`bump` each (event, need, service) once, in the caller's transaction."""
    for event, need, service in events:
        await bump(session, event, now, time_zone=time_zone, need=need, service=service)
