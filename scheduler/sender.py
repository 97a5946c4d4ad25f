"""Drains the outbox: claims due messages, resolves where they go, sends them paced, records
what happened. Every replica runs one; a graceful stop hands unsent work back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.directory import ConversationInfo, remember_conversation
from core.models import Conversation, Person, utcnow
from scheduler import outbox
from scheduler.models import SENT, UNREACHABLE, OutboxMessage
from scheduler.pacing import AdaptiveRate, TokenBucket
from scheduler.transport import Destination, SendOutcome, Transport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderSettings:
    """How fast and how hard to push: Teams' documented limits as defaults."""

    rate_per_second: float = 50.0
    interactive_headroom: float = 0.2
    concurrency: int = 16
    batch_size: int = 64
    lease_seconds: float = 120.0
    idle_poll_seconds: float = 1.0
    retry: outbox.RetryPolicy = field(default_factory=outbox.RetryPolicy)

    @property
    def fanout_rate(self) -> float:
        return max(1.0, self.rate_per_second * (1 - self.interactive_headroom))


class Unresolvable(Exception):
    """Nothing stored says how to reach this recipient (never installed, or removed)."""


async def resolve(session: AsyncSession, row: OutboxMessage) -> Destination:
    """Where a message goes, from stored conversation references and rosters."""
    if row.aad_object_id and not row.conversation_id:
        person = await session.get(Person, row.aad_object_id)
        if person is None:
            raise Unresolvable("person unknown")
        if person.personal_conversation_id:
            conversation = await session.get(Conversation, person.personal_conversation_id)
            if conversation is not None:
                return Destination(
                    conversation.service_url,
                    conversation.tenant_id,
                    conversation.bot_id,
                    conversation.id,
                )
        if not person.teams_user_id:
            raise Unresolvable("no Teams user id yet")
        any_conversation = (
            await session.exec(
                select(Conversation).where(Conversation.tenant_id == person.tenant_id).limit(1)
            )
        ).first()
        if any_conversation is None:
            raise Unresolvable("no conversation known in this tenant")
        return Destination(
            any_conversation.service_url,
            person.tenant_id,
            any_conversation.bot_id,
            None,
            user_id=person.teams_user_id,
        )
    conversation = await session.get(Conversation, row.conversation_id or "")
    if conversation is None:
        raise Unresolvable("conversation unknown")
    return Destination(
        conversation.service_url,
        conversation.tenant_id,
        conversation.bot_id,
        conversation.id,
        thread_id=row.thread_id,
    )


async def _remember_created_chat(
    session: AsyncSession, row: OutboxMessage, destination: Destination, conversation_id: str
) -> None:
    """A one-to-one chat the bot created: store it so the next message needs no creation."""
    reference = {
        "bot": {"id": destination.bot_id},
        "user": {"id": destination.user_id, "aadObjectId": row.aad_object_id},
        "conversation": {
            "id": conversation_id,
            "conversationType": "personal",
            "tenantId": destination.tenant_id,
        },
        "channelId": "msteams",
        "serviceUrl": destination.service_url,
    }
    await remember_conversation(
        session,
        ConversationInfo(
            id=conversation_id,
            kind="personal",
            tenant_id=destination.tenant_id,
            service_url=destination.service_url,
            bot_id=destination.bot_id,
            reference=reference,
            aad_object_id=row.aad_object_id,
        ),
    )
    person = await session.get(Person, row.aad_object_id)
    if person is not None:
        person.personal_conversation_id = conversation_id
        session.add(person)


async def _mark_unreachable(session: AsyncSession, aad_object_id: str, now: datetime) -> None:
    """Teams says the bot cannot reach this person: stop trying until they reinstall."""
    person = await session.get(Person, aad_object_id)
    if person is not None and person.unreachable_since is None:
        person.unreachable_since = now
        session.add(person)


class OutboxSender:
    """One replica's sender loop."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        settings: SenderSettings = SenderSettings(),
        *,
        clock: Callable[[], datetime] = utcnow,
        worker: str | None = None,
    ):
        self.sessions = sessions
        self.transport = transport
        self.settings = settings
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.bucket = TokenBucket(settings.fanout_rate)
        self.rate = AdaptiveRate(self.bucket, ceiling=settings.fanout_rate)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[int] = set()
        self.sent_count = 0

    def wake(self) -> None:
        """New work was enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many were claimed."""
        now = self.clock()
        async with self.sessions() as session:
            rows = await outbox.claim(
                session,
                self.worker,
                self.settings.batch_size,
                now,
                timedelta(seconds=self.settings.lease_seconds),
            )
        if not rows:
            return 0
        limiter = asyncio.Semaphore(self.settings.concurrency)
        await asyncio.gather(*(self._deliver(row, limiter) for row in rows))
        return len(rows)

    async def _deliver(self, row: OutboxMessage, limiter: asyncio.Semaphore) -> None:
        if self._stopping.is_set():
            return
        async with limiter:
            if self._stopping.is_set():
                return
            self._in_flight.add(row.id)
            try:
                await self._send_one(row)
            finally:
                self._in_flight.discard(row.id)

    async def _send_one(self, row: OutboxMessage) -> None:
        async with self.sessions() as session:
            try:
                destination = await resolve(session, row)
            except Unresolvable as reason:
                fresh = await session.get(OutboxMessage, row.id)
                fresh.status, fresh.last_error = UNREACHABLE, str(reason)
                fresh.lease_until = fresh.claimed_by = None
                session.add(fresh)
                await session.commit()
                return
        await self.bucket.acquire()
        outcome: SendOutcome = await self.transport.send(destination, json.loads(row.payload))
        self.rate.record(outcome.status == 429)
        async with self.sessions() as session:
            fresh = await session.get(OutboxMessage, row.id)
            outbox.settle(fresh, outcome, self.clock(), self.settings.retry)
            session.add(fresh)
            if (
                fresh.status == SENT
                and destination.conversation_id is None
                and outcome.conversation_id
            ):
                await _remember_created_chat(session, fresh, destination, outcome.conversation_id)
            if fresh.status == UNREACHABLE and fresh.aad_object_id and not fresh.thread_id:
                await _mark_unreachable(session, fresh.aad_object_id, self.clock())
            await session.commit()
        if outcome.ok:
            self.sent_count += 1
        else:
            log.info("outbox message %s: HTTP %s, now %s", row.id, outcome.status, fresh.status)

    async def run(self) -> None:
        """Drain until stopped; sleeps between polls unless woken by new work."""
        while not self._stopping.is_set():
            try:
                claimed = await self.run_once()
            # The database may be away; keep the loop alive and try again after a pause.
            except Exception as error:
                log.warning("outbox sender could not work: %s", type(error).__name__)
                claimed = 0
            if claimed == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.idle_poll_seconds)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop claiming; let in-flight sends finish within the grace time; hand back the rest."""
        self._stopping.set()
        self._wake.set()
        deadline = asyncio.get_running_loop().time() + grace_seconds
        while self._in_flight and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        async with self.sessions() as session:
            await outbox.release_lease(
                session,
                [
                    r
                    for r in (
                        await session.exec(
                            select(OutboxMessage.id).where(OutboxMessage.claimed_by == self.worker)
                        )
                    ).all()
                ],
                self.clock(),
            )
