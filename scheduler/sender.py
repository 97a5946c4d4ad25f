"""Drains the outbox: claims due messages, resolves where they go, sends them paced, records
what happened. Every replica runs one; a graceful stop hands unsent work back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.privacy.secrets import Secrets
from core.store import leases, outbox
from core.store.directory import ConversationInfo, remember_conversation
from core.store.models import Conversation, Person
from core.store.outbox import FAILED, SENT, UNREACHABLE, OutboxMessage
from core.transport import Destination, SendOutcome, Transport
from scheduler.pacing import AdaptiveRate, SharedPacer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderSettings:
    """How fast and how hard to push: Teams' documented limits as defaults."""

    rate_per_second: float = 50.0
    """Teams' limit for everything the app sends in a tenant; replies share it (they take
    their slots first, from the same timetable)."""
    min_headroom: float = 0.01
    """The share of the limit never used: slots are then a little more than 1 / limit apart,
    and that gap is the slack a late sender may still use its slot in."""
    concurrency: int = 32
    batch_size: int = 64
    """The most messages one claim takes."""
    claim_seconds: float = 2.0
    """A claim takes about this many seconds of this sender's share of the rate (never more
    than `batch_size`, never fewer than 8): with several replicas, small claims keep their last
    batches even, so no replica is left sending the tail alone at its share of the timetable
    while the others' slots go unused."""
    lease_seconds: float = 120.0
    idle_poll_seconds: float = 1.0
    db_concurrency: int = 4
    heartbeat_seconds: float = 2.0
    heartbeat_ttl_seconds: float = 10.0
    retry: outbox.RetryPolicy = field(default_factory=outbox.RetryPolicy)
    record_seconds: float = 0.1
    """Send outcomes are written together, at most this long after the first of them arrives:
    one transaction for many messages instead of one each."""
    record_batch: int = 500
    reclaim_seconds: float | None = None
    """How often to look for claims whose sender died (default: a quarter of the lease)."""


def pacer_for(sessions: Callable[[], AsyncSession], settings: SenderSettings) -> SharedPacer:
    """The replica's pacer on the tenants' shared timetables, for its sender and its replies."""
    limit = settings.rate_per_second
    return SharedPacer(sessions, limit * (1 - settings.min_headroom), limit)


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
    session: AsyncSession,
    row: OutboxMessage,
    destination: Destination,
    conversation_id: str,
    now: datetime,
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
        now=now,
    )
    person = await session.get(Person, row.aad_object_id)
    if person is not None:
        person.personal_conversation_id = conversation_id
        session.add(person)


async def _mark_unreachable(session: AsyncSession, aad_object_id: str, now: datetime) -> None:
    """Teams says the bot cannot reach this person (a 404, a final 403, or 403s in a row): stop
    trying until they reinstall or write to the bot again."""
    person = await session.get(Person, aad_object_id)
    if person is not None and person.unreachable_since is None:
        person.unreachable_since = now
        session.add(person)


class _Outcome(NamedTuple):
    """A send's answer waiting to be written with others."""

    row: OutboxMessage
    outcome: SendOutcome
    destination: Destination
    deadline: float
    written: asyncio.Future[str | None]


class OutboxSender:
    """One replica's sender loop."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        settings: SenderSettings = SenderSettings(),
        *,
        clock: Callable[[], datetime],
        worker: str | None = None,
        pacer: SharedPacer | None = None,
        secrets: Secrets | None = None,
    ):
        self.sessions = sessions
        self.secrets = secrets
        self.transport = transport
        self.settings = settings
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self.pacer = pacer or pacer_for(sessions, settings)
        self.rate = AdaptiveRate(self.pacer, ceiling=self.pacer.rate)
        self.senders = 1
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[int] = set()
        self._held: set[int] = set()  # claimed by this sender and not yet settled or handed back
        self._waiting: set[int] = set()  # claimed and dispatched, not yet holding a slot
        self._room = asyncio.Event()
        self._to_release: set[int] = set()
        self._slots = asyncio.Semaphore(settings.concurrency)
        # Sends may be many at once; their database writes are few at once, so the connection
        # pool stays free for people's own messages during a fan-out.
        self._db = asyncio.Semaphore(settings.db_concurrency)
        self._tasks: set[asyncio.Task] = set()
        self._outcomes: list[_Outcome] = []
        self._writer: asyncio.Task | None = None
        self._next_reclaim: datetime | None = None
        self.sent_count = 0

    async def heartbeat(self) -> None:
        """Say this sender is alive, and count the live ones (each claims its share)."""
        now = self.clock()
        ttl = timedelta(seconds=self.settings.heartbeat_ttl_seconds)
        async with self.sessions() as session:
            await leases.acquire(session, leases.SENDER_PREFIX + self.worker, self.worker, now, ttl)
            live = await leases.live_senders(session, now)
        self.senders = max(1, len(live))

    async def _heartbeats(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.heartbeat()
            # The database may be away; the last share stays in force until it is back.
            except Exception as error:
                log.warning("sender heartbeat failed: %s", type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.heartbeat_seconds)

    def claim_size(self) -> int:
        """How many messages to claim: `claim_seconds` of this sender's slots."""
        share = self.pacer.rate / self.senders * self.settings.claim_seconds
        return max(min(8, self.settings.batch_size), min(self.settings.batch_size, int(share)))

    def wake(self) -> None:
        """New work was enqueued: look now instead of at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch and deliver all of it; returns how many were claimed."""
        claimed = await self._claim_and_dispatch()
        if self._tasks:
            await asyncio.gather(*list(self._tasks))
        return claimed

    async def _claim_and_dispatch(self) -> int:
        """Claim a batch and start its sends, returning once at most half a batch is still
        waiting for a slot: the next batch is claimed and resolved (which may take a second on
        a busy machine) while this one still has work for every slot of the timetable, so
        sending never runs dry between batches. At most one and a half claims wait at a time,
        a few seconds of sending, well within a lease."""
        now = self.clock()
        reclaim = self._next_reclaim is None or now >= self._next_reclaim
        size = self.claim_size()
        async with self.sessions() as session:
            rows = await outbox.claim(
                session,
                self.worker,
                size,
                now,
                timedelta(seconds=self.settings.lease_seconds),
                reclaim=reclaim,
                holding=self._held | self._to_release,
            )
        if reclaim:
            every = self.settings.reclaim_seconds or self.settings.lease_seconds / 4
            self._next_reclaim = now + timedelta(seconds=every)
        if not rows:
            return 0
        self._held.update(row.id for row in rows)
        try:
            destinations = await self._resolve_batch(rows)
        except Exception:
            # Nothing was sent: hand the whole batch back once the database answers again.
            self._to_release.update(row.id for row in rows)
            self._held.difference_update(row.id for row in rows)
            raise
        self._waiting.update(row.id for row in rows)
        for row in rows:
            task = asyncio.create_task(self._deliver(row, destinations[row.id]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        ahead = size // 2
        while len(self._waiting) > ahead and not self._stopping.is_set():
            self._room.clear()
            await self._room.wait()
        return len(rows)

    async def _resolve_batch(
        self, rows: list[OutboxMessage]
    ) -> dict[int, Destination | Unresolvable]:
        """Where each claimed message goes, with the batch's people and chats loaded in two
        queries (the session's identity map then answers each lookup without SQL)."""
        people = {row.aad_object_id for row in rows if row.aad_object_id}
        async with self.sessions() as session:
            found = (
                await session.exec(select(Person).where(Person.aad_object_id.in_(people)))
            ).all()
            chats = {row.conversation_id for row in rows if row.conversation_id}
            chats |= {p.personal_conversation_id for p in found if p.personal_conversation_id}
            await session.exec(select(Conversation).where(Conversation.id.in_(chats)))
            resolved: dict[int, Destination | Unresolvable] = {}
            for row in rows:
                try:
                    resolved[row.id] = await resolve(session, row)
                except Unresolvable as reason:
                    resolved[row.id] = reason
        return resolved

    async def _deliver(self, row: OutboxMessage, destination: Destination | Unresolvable) -> None:
        """One send: waits for one of the `concurrency` slots and holds it until recorded."""
        try:
            async with self._slots:
                self._started(row.id)
                if self._stopping.is_set():
                    return
                self._in_flight.add(row.id)
                await self._send_one(row, destination)
        # The database went away before the send: hand the claim back once it returns.
        except Exception as error:
            log.warning("outbox message %s not sent: %s", row.id, type(error).__name__)
            self._to_release.add(row.id)
        finally:
            self._in_flight.discard(row.id)
            self._held.discard(row.id)
            self._started(row.id)

    def _started(self, row_id: int) -> None:
        """A dispatched row has a slot (or is done): maybe room to claim the next batch."""
        self._waiting.discard(row_id)
        self._room.set()

    async def _give_up(self, row: OutboxMessage, status: str, reason: str) -> None:
        """Settle a message that cannot be sent at all, without a request to Teams."""
        async with self.sessions() as session:
            fresh = await session.get(OutboxMessage, row.id)
            fresh.status, fresh.last_error = status, reason
            fresh.lease_until = fresh.claimed_by = None
            session.add(fresh)
            await session.commit()

    async def _send_one(self, row: OutboxMessage, destination: Destination | Unresolvable) -> None:
        if isinstance(destination, Unresolvable):
            await self._give_up(row, UNREACHABLE, str(destination))
            return
        try:
            payload = outbox.unpack(row.payload, self.secrets)
        except outbox.SealedPayloadError as error:
            log.error("outbox message %s cannot be opened: %s", row.id, error)
            await self._give_up(row, FAILED, "sealed: no data key opens it")
            return
        await self.pacer.acquire(destination.tenant_id)
        margin = timedelta(seconds=self.settings.lease_seconds / 4)
        if row.lease_until is not None and self.clock() >= row.lease_until - margin:
            # Too little of the claim's lease is left to send and record the outcome before
            # another sender may take the row back (a slow database): hand it back unsent.
            self._to_release.add(row.id)
            return
        outcome: SendOutcome = await self.transport.send(destination, payload)
        self.rate.record(outcome.status == 429)
        status = await self._record(row, outcome, destination)
        if outcome.ok:
            self.sent_count += 1
        else:
            log.info("outbox message %s: HTTP %s, now %s", row.id, outcome.status, status)

    async def _record(
        self, row: OutboxMessage, outcome: SendOutcome, destination: Destination
    ) -> str | None:
        """Write what Teams answered, together with the other outcomes of the next moment (one
        transaction for them all). The message has gone (or not) whatever the database does, so
        a failed write is retried until it lands: giving up would send it again later."""
        written: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        deadline = time.monotonic() + self.settings.lease_seconds
        self._outcomes.append(_Outcome(row, outcome, destination, deadline, written))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_outcomes(), name="sender-outcomes")
        return await asyncio.shield(written)

    async def _write_outcomes(self) -> None:
        """Group commit: wait `record_seconds` for more outcomes, write them all at once; again
        while any are waiting. One writer at a time per sender."""
        delay = 0.1
        while self._outcomes:
            await asyncio.sleep(self.settings.record_seconds)
            batch = self._outcomes[: self.settings.record_batch]
            del self._outcomes[: len(batch)]
            try:
                async with self._db:
                    statuses = await self._settle_batch(batch)
            # The database is away: keep the outcomes and try again, with back-off.
            except Exception as error:
                now = time.monotonic()
                for pending in batch:
                    if now >= pending.deadline:
                        log.error(
                            "outbox message %s: outcome not recorded: %s",
                            pending.row.id,
                            type(error).__name__,
                        )
                        _resolve(pending.written, None)
                self._outcomes[:0] = [p for p in batch if now < p.deadline]
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            for pending, status in zip(batch, statuses, strict=True):
                _resolve(pending.written, status)

    async def _settle_batch(self, batch: list[_Outcome]) -> list[str]:
        now = self.clock()
        async with self.sessions() as session:
            settled = await outbox.record_outcomes(
                session,
                [(pending.row, pending.outcome) for pending in batch],
                now,
                self.settings.retry,
                self.worker,
            )
            for pending, row in zip(batch, settled, strict=True):
                destination, outcome = pending.destination, pending.outcome
                if (
                    row.status == SENT
                    and destination.conversation_id is None
                    and outcome.conversation_id
                ):
                    await _remember_created_chat(
                        session, row, destination, outcome.conversation_id, now
                    )
                if (
                    row.aad_object_id
                    and not row.thread_id
                    and (
                        row.status == UNREACHABLE
                        or (
                            row.last_status_code == 403
                            and await outbox.refused_repeatedly(session, row.aad_object_id)
                        )
                    )
                ):
                    await _mark_unreachable(session, row.aad_object_id, now)
            await session.commit()
            return [row.status for row in settled]

    async def _release_unsent(self) -> None:
        """Hand back claims whose send never started because the database was away."""
        if not self._to_release:
            return
        ids = sorted(self._to_release)
        async with self.sessions() as session:
            await outbox.release_lease(session, ids, self.clock())
        self._to_release.difference_update(ids)

    async def run(self) -> None:
        """Drain until stopped, heartbeating alongside; sleeps between polls unless woken."""
        with contextlib.suppress(Exception):  # no database yet: the heartbeat loop keeps trying
            await self.heartbeat()
        beating = asyncio.create_task(self._heartbeats(), name="sender-heartbeat")
        try:
            await self._drain_until_stopped()
        finally:
            self._stopping.set()
            await beating

    async def _drain_until_stopped(self) -> None:
        while not self._stopping.is_set():
            try:
                await self._release_unsent()
                claimed = await self._claim_and_dispatch()
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
        self._room.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        while self._in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if self._writer is not None and not self._writer.done():
            # Outcomes already in hand are written before the claims are handed back.
            await asyncio.wait({self._writer}, timeout=max(0.0, deadline - loop.time()) + 1.0)
        try:
            async with self.sessions() as session:
                await leases.release(session, leases.SENDER_PREFIX + self.worker, self.worker)
                mine = await session.exec(
                    select(OutboxMessage.id).where(OutboxMessage.claimed_by == self.worker)
                )
                await outbox.release_lease(session, list(mine.all()), self.clock())
        # The database is away as we stop: our claims and heartbeat simply expire instead.
        except Exception as error:
            log.warning("could not hand back claims on stopping: %s", type(error).__name__)


def _resolve(future: asyncio.Future[str | None], status: str | None) -> None:
    if not future.done():
        future.set_result(status)
