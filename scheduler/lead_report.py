"""The monthly wellbeing report card: once a month, each configured wellbeing lead gets the
headline figures of the month just gone, with a button for the full report (a fresh 15-minute
link, like a data export). Sent through the outbox with one dedupe key per month and lead, so a
restart, a second replica or a new leader never sends it twice."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from core.context import Services
from core.events import PersonalChat, Reply
from core.reporting import leadreport
from core.store.models import Person
from core.store.outbox import OutboxMessage, enqueue_reply
from dialogs import leadreport as lead_dialog

log = logging.getLogger(__name__)

SEND_FROM_HOUR = 9
"""Local time on the first of the month from which the card goes out."""
SEND_UNTIL_DAY = 7
"""After this day of the month a missed card is not sent (old news); `report` still works."""


async def monthly(services: Services, now: datetime) -> int:
    """Count newly closed cycles, and send last month's card to each lead once; returns how many
    cards were queued."""
    async with services.sessions() as session:
        await leadreport.snapshot_closed_cycles(session, now)
        await session.commit()
    local = now.astimezone(ZoneInfo(services.org.organisation.timezone))
    if local.day > SEND_UNTIL_DAY or (local.day == 1 and local.hour < SEND_FROM_HOUR):
        return 0
    month = leadreport.previous_month(local.date())
    start, end = leadreport.month_bounds(month)
    async with services.sessions() as session:
        leads = await leadreport.lead_ids(session, services.org)
        people = (
            (await session.exec(select(Person).where(Person.aad_object_id.in_(leads)))).all()
            if leads
            else []
        )
        keys = {p.aad_object_id: f"lead-report:{month}:{p.aad_object_id}" for p in people}
        queued_before = set(
            (
                await session.exec(
                    select(OutboxMessage.dedupe_key).where(
                        OutboxMessage.dedupe_key.in_(list(keys.values()))
                    )
                )
            ).all()
        )
        # The job runs every 15 minutes for a week: build the report only for a lead still
        # waiting for this month's card.
        people = [p for p in people if keys[p.aad_object_id] not in queued_before]
        if not people:
            return 0
        report = await leadreport.build(session, services.org, start, end, now)
        if not report.weeks:
            return 0
        card = lead_dialog.lead_card(report, url=None, month=month)
        queued = 0
        for person in people:
            queued += int(
                await enqueue_reply(
                    session,
                    person.tenant_id,
                    Reply(card=card, to=PersonalChat(person.aad_object_id), purpose="notice"),
                    dedupe_key=keys[person.aad_object_id],
                    now=now,
                )
            )
        await session.commit()
    if queued:
        services.wake_sender()
        log.info("monthly wellbeing report for %s queued for %d lead(s)", month, queued)
    return queued
