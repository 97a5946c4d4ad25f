"""Claiming and settling at scale: two claim queries on partial indexes (due work, and leases run
out), outcomes written in batches, and the lease guarantees kept with both."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from core import db
from core.events import PersonalChat, Reply
from core.store import outbox
from core.store.outbox import OutboxMessage
from core.transport import SendOutcome
from scheduler.sender import OutboxSender, SenderSettings
from tests.support.clock import Clock
from tests.test_outbox import FAST, _person, _queue, _rows

pytestmark = pytest.mark.time_sensitive

LEASE = timedelta(seconds=30)
POLICY = outbox.RetryPolicy(max_attempts=4, base_seconds=0.01, max_seconds=0.05)


@pytest.fixture
async def engine(database_url):
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


async def _queue_many(sessions, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        await _queue(sessions, PersonalChat(f"p{i}"), text=f"m{i}", dedupe_key=f"k{i}")


async def _claim(sessions, worker, now, limit=10, **kwargs) -> list[OutboxMessage]:
    async with sessions() as session:
        return await outbox.claim(session, worker, limit, now, LEASE, **kwargs)


async def test_the_outbox_has_one_partial_index_per_claim_query(engine):
    def indexes(connection):
        return {ix["name"]: ix for ix in inspect(connection).get_indexes("outbox")}

    async with engine.connect() as connection:
        found = await connection.run_sync(indexes)
        assert "ix_outbox_due" not in found
        assert found["ix_outbox_pending"]["column_names"] == ["next_attempt_at", "id"]
        assert found["ix_outbox_leased"]["column_names"] == ["lease_until"]
        if engine.dialect.name == "postgresql":
            definitions = dict(
                (
                    await connection.execute(
                        text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename='outbox'")
                    )
                ).all()
            )
        else:
            definitions = dict(
                (
                    await connection.execute(
                        text("SELECT name, sql FROM sqlite_master WHERE tbl_name='outbox'")
                    )
                ).all()
            )
    pending = definitions["ix_outbox_pending"].lower().replace("::text", "")
    leased = definitions["ix_outbox_leased"].lower().replace("::text", "")
    assert "where" in pending and "queued" in pending and "retrying" in pending
    assert "where" in leased and "sending" in leased and "queued" not in leased


async def test_due_work_is_claimed_in_order_and_future_work_is_left(sessions):
    clock = Clock()
    await _queue_many(sessions, 5)
    async with sessions() as session:
        await outbox.enqueue_reply(
            session,
            "t",
            Reply(text="later", to=PersonalChat("later")),
            now=clock.now,
            not_before=clock.now + timedelta(minutes=5),
        )
        await session.commit()
    first = await _claim(sessions, "a", clock.now, limit=3)
    second = await _claim(sessions, "b", clock.now, limit=10)
    assert [r.id for r in first] == [1, 2, 3] and [r.id for r in second] == [4, 5]
    assert all(r.status == "sending" and r.attempts == 1 and r.reclaimed == 0 for r in first)
    assert first[0].claimed_by == "a" and first[0].lease_until == clock.now + LEASE
    assert await _claim(sessions, "c", clock.now) == []


async def test_expired_leases_are_taken_back_first_and_only_when_asked(sessions):
    clock = Clock()
    await _queue_many(sessions, 3)
    dead = await _claim(sessions, "dead", clock.now, limit=2)
    later = clock.now + LEASE + timedelta(seconds=1)
    assert [r.id for r in await _claim(sessions, "b", later, limit=1, reclaim=False)] == [3]
    taken = await _claim(sessions, "c", later, limit=5)
    assert [r.id for r in taken] == [r.id for r in dead]
    assert all(r.reclaimed == 1 and r.attempts == 2 and r.claimed_by == "c" for r in taken)


async def test_a_lease_still_running_is_never_taken(sessions):
    clock = Clock()
    await _queue_many(sessions, 2)
    await _claim(sessions, "a", clock.now, limit=2)
    assert await _claim(sessions, "b", clock.now + LEASE - timedelta(seconds=1)) == []


async def test_a_sender_never_takes_back_what_it_still_holds(sessions):
    clock = Clock()
    await _queue_many(sessions, 2)
    mine = await _claim(sessions, "a", clock.now, limit=2)
    later = clock.now + LEASE + timedelta(seconds=1)
    again = await _claim(sessions, "a", later, holding={mine[0].id})
    assert [r.id for r in again] == [mine[1].id]


async def test_outcomes_are_settled_in_one_batch_without_reading_the_rows(sessions):
    clock = Clock()
    await _queue_many(sessions, 4)
    rows = await _claim(sessions, "a", clock.now)
    outcomes = [
        SendOutcome(status=201, activity_id="x1"),
        SendOutcome(status=503),
        SendOutcome(status=403, code="BotDisabledByAdmin"),
        SendOutcome(status=400, error="bad"),
    ]
    async with sessions() as session:
        settled = await outbox.record_outcomes(
            session, list(zip(rows, outcomes, strict=True)), clock.now, POLICY, "a"
        )
        await session.commit()
    assert [r.status for r in settled] == ["sent", "retrying", "unreachable", "failed"]
    stored = await _rows(sessions)
    assert [r.status for r in stored] == ["sent", "retrying", "unreachable", "failed"]
    assert stored[0].sent_activity_id == "x1" and stored[0].sent_at == clock.now
    assert stored[1].next_attempt_at > clock.now and stored[1].last_error == "HTTP 503"
    assert all(r.claimed_by is None and r.lease_until is None for r in stored)
    assert stored[3].last_error == "bad" and stored[3].last_status_code == 400


async def test_a_late_failure_does_not_undo_another_senders_claim_but_a_delivery_counts(
    sessions,
):
    """Sender a's lease ran out and b took the rows back: a's "retry later" must not hand b's
    claim to a third sender, while a's delivery is recorded (the message has gone)."""
    clock = Clock()
    await _queue_many(sessions, 2)
    slow = await _claim(sessions, "a", clock.now, limit=2)
    later = clock.now + LEASE + timedelta(seconds=1)
    assert len(await _claim(sessions, "b", later)) == 2
    async with sessions() as session:
        await outbox.record_outcomes(
            session,
            [(slow[0], SendOutcome(status=503)), (slow[1], SendOutcome(status=201))],
            later,
            POLICY,
            "a",
        )
        await session.commit()
    first, second = await _rows(sessions)
    assert first.status == "sending" and first.claimed_by == "b"
    assert second.status == "sent"


async def test_any_unsettled_sees_waiting_and_leased_rows(sessions):
    clock = Clock()
    async with sessions() as session:
        assert not await outbox.any_unsettled(session)
    await _queue_many(sessions, 1)
    async with sessions() as session:
        assert await outbox.any_unsettled(session)
    [row] = await _claim(sessions, "a", clock.now)
    async with sessions() as session:
        assert await outbox.any_unsettled(session)  # leased, not settled
        await outbox.record_outcomes(
            session, [(row, SendOutcome(status=201))], clock.now, POLICY, "a"
        )
        await session.commit()
        assert not await outbox.any_unsettled(session)


async def test_a_sender_writes_many_outcomes_in_few_transactions(
    sessions, transport, connector, monkeypatch
):
    clock = Clock()
    for i in range(24):
        await _person(sessions, connector, f"p{i}")
    await _queue_many(sessions, 24)
    batches: list[int] = []
    real = outbox.record_outcomes

    async def counting(session, outcomes, *args):
        batches.append(len(outcomes))
        return await real(session, outcomes, *args)

    monkeypatch.setattr(outbox, "record_outcomes", counting)
    settings = SenderSettings(**{**FAST.__dict__, "batch_size": 24, "record_seconds": 0.2})
    sender = OutboxSender(sessions, transport, settings, clock=clock)
    assert await sender.run_once() == 24
    assert sum(batches) == 24 and len(batches) <= 6
    assert sorted(connector.texts()) == sorted(f"m{i}" for i in range(24))
    assert {r.status for r in await _rows(sessions)} == {"sent"}


async def test_outcomes_waiting_to_be_written_are_not_taken_back_by_their_own_sender(
    sessions, transport, connector
):
    """The lease runs out (here: the clock jumps) while a sent message's outcome waits for its
    batch: the same sender must not claim it again and send it twice."""
    clock = Clock()
    await _person(sessions, connector, "p1")
    await _queue(sessions, PersonalChat("p1"))
    settings = SenderSettings(**{**FAST.__dict__, "record_seconds": 0.5})
    sender = OutboxSender(sessions, transport, settings, clock=clock)
    running = asyncio.create_task(sender.run_once())
    await connector.wait_for(1)
    clock.now += timedelta(seconds=settings.lease_seconds + 1)
    assert await sender._claim_and_dispatch() == 0
    await running
    [row] = await _rows(sessions)
    assert row.status == "sent" and row.reclaimed == 0 and row.attempts == 1
    assert connector.texts() == ["Hello"]


async def test_an_outcome_is_written_once_the_database_answers_again(
    sessions, transport, connector, monkeypatch
):
    clock = Clock()
    await _person(sessions, connector, "p1")
    await _queue(sessions, PersonalChat("p1"))
    failures = [ConnectionError("database away")] * 2
    real = outbox.record_outcomes

    async def flaky(*args):
        if failures:
            raise failures.pop()
        return await real(*args)

    monkeypatch.setattr(outbox, "record_outcomes", flaky)
    sender = OutboxSender(sessions, transport, FAST, clock=clock)
    assert await sender.run_once() == 1
    [row] = await _rows(sessions)
    assert row.status == "sent" and not failures
    assert connector.texts() == ["Hello"]


async def test_a_dead_senders_rows_are_sent_by_a_survivor_whose_reclaim_is_periodic(
    sessions, transport, connector
):
    clock = Clock()
    for i in range(3):
        await _person(sessions, connector, f"p{i}")
    await _queue_many(sessions, 3)
    await _claim(sessions, "dead-replica", clock.now, limit=3)
    survivor = OutboxSender(sessions, transport, FAST, clock=clock, worker="survivor")
    assert await survivor.run_once() == 0  # leased to the dead one; looked, and found none
    clock.now += timedelta(seconds=FAST.lease_seconds + 1)
    assert await survivor.run_once() == 3  # the next look is due (a quarter of the lease on)
    assert {r.status for r in await _rows(sessions)} == {"sent"}
    assert {r.reclaimed for r in await _rows(sessions)} == {1}
    assert sorted(connector.texts()) == ["m0", "m1", "m2"]


async def test_the_next_batch_is_claimed_while_the_last_one_still_has_work_waiting(
    sessions, transport, connector
):
    """Claiming and resolving a batch can take a second on a busy machine: it is done while half
    a batch still waits for a slot, so the timetable's slots never find nothing to send."""
    clock = Clock()
    for i in range(8):
        await _person(sessions, connector, f"p{i}")
    await _queue_many(sessions, 8)
    settings = SenderSettings(**{**FAST.__dict__, "batch_size": 4, "concurrency": 1})
    sender = OutboxSender(sessions, transport, settings, clock=clock)
    assert await sender._claim_and_dispatch() == 4
    assert len(connector.texts()) <= 2  # two of the four were still waiting for a slot
    assert await sender._claim_and_dispatch() == 4
    await asyncio.gather(*list(sender._tasks))
    assert sorted(connector.texts()) == sorted(f"m{i}" for i in range(8))
    assert {r.status for r in await _rows(sessions)} == {"sent"}


def test_each_replica_claims_a_few_seconds_of_its_share_of_the_timetable(transport):
    """With three replicas each sends a third of the rate: a claim of a whole batch would leave
    the one holding the last of the queue sending alone while the others' slots go unused."""
    settings = SenderSettings(rate_per_second=50, batch_size=500, claim_seconds=2.0)
    sender = OutboxSender(None, transport, settings, clock=Clock())  # type: ignore[arg-type]
    sender.pacer.rate = 49.5
    sender.senders = 1
    assert sender.claim_size() == 99
    sender.senders = 3
    assert sender.claim_size() == 33
    sender.senders = 50
    assert sender.claim_size() == 8
    small = OutboxSender(None, transport, SenderSettings(batch_size=4), clock=Clock())  # type: ignore[arg-type]
    assert small.claim_size() == 4
