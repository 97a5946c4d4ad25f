"""Scale-out mechanics: the leader lease and failover, sharing the rate between live senders,
slowing down on bursts of 429 (but not on scattered ones), and delivery notices to the leads."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import SENDER
from core import db
from core.config.orgconfig import OrgConfig
from core.store import leases, sendbudget
from core.store.outbox import OutboxMessage
from scheduler import checkins, jobs
from scheduler.pacing import AdaptiveRate, SharedPacer
from tests.support.activities import TeamsUser
from tests.support.clock import RunningClock
from tests.support.fake_connector import Fault, busiest_second

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url):
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    yield db.session_factory(engine)
    await engine.dispose()


async def test_one_leader_at_a_time_and_a_bounded_takeover(sessions):
    ttl = timedelta(seconds=45)
    async with sessions() as session:
        assert await leases.acquire(session, leases.LEADER, "a", NOW, ttl)
        assert not await leases.acquire(
            session, leases.LEADER, "b", NOW + timedelta(seconds=10), ttl
        )
        assert await leases.acquire(
            session, leases.LEADER, "a", NOW + timedelta(seconds=30), ttl
        )  # renew
        # a dies after renewing at +30 s: b takes over once the deadline (+75 s) passes, not before
        assert not await leases.acquire(
            session, leases.LEADER, "b", NOW + timedelta(seconds=74), ttl
        )
        assert await leases.acquire(session, leases.LEADER, "b", NOW + timedelta(seconds=76), ttl)
        await leases.release(session, leases.LEADER, "b")  # a graceful stop hands over at once
        assert await leases.acquire(session, leases.LEADER, "c", NOW + timedelta(seconds=77), ttl)


async def test_live_senders_are_counted_from_heartbeats(sessions):
    ttl = timedelta(seconds=10)
    async with sessions() as session:
        for worker in ("r1", "r2", "r3"):
            await leases.acquire(session, leases.SENDER_PREFIX + worker, worker, NOW, ttl)
        assert await leases.live_senders(session, NOW + timedelta(seconds=5)) == ["r1", "r2", "r3"]
        await leases.acquire(
            session, leases.SENDER_PREFIX + "r1", "r1", NOW + timedelta(seconds=8), ttl
        )
        assert await leases.live_senders(session, NOW + timedelta(seconds=12)) == [
            "r1"
        ]  # r2, r3 died


class SimulatedTime:
    """One simulated clock for `actors` coroutines: it moves on only once every one of them is
    asleep, to the earliest wake-up; each sleep overruns by `lateness()` (a busy event loop).
    Database statements take no simulated time."""

    def __init__(self, start: float, lateness, actors: int = 1):
        self.now, self.lateness, self.actors = start, lateness, actors
        self._asleep: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        wake = self.now + seconds + self.lateness()
        heapq.heappush(self._asleep, (wake, next(self._order), woken))
        self._advance()
        await woken

    def finished(self) -> None:
        self.actors -= 1
        self._advance()

    def _advance(self) -> None:
        if self._asleep and len(self._asleep) >= self.actors:
            wake, _, woken = heapq.heappop(self._asleep)
            self.now = max(self.now, wake)
            woken.set_result(None)


def _pacer(sessions, time: SimulatedTime, rate: float = 49.5, limit: float = 50):
    return SharedPacer(sessions, rate, limit, clock=time, sleep=time.sleep)


async def test_replicas_and_replies_on_one_database_timetable_never_exceed_the_limit(sessions):
    """Two replicas' fan-outs and a stream of replies on each, all on the tenant's one timetable
    in the database: together never more than the limit in any second, and a reply waits
    behind about one fan-out slot per replica, not behind the fan-out's queue."""
    rng = random.Random(7)

    def lateness() -> float:  # mostly a few ms late, now and then much later
        return 0.04 if rng.random() < 0.02 else rng.choice([0.0, 0.001, 0.002, 0.004, 0.008])

    time = SimulatedTime(1_800_000_000.0, lateness, actors=4)
    replicas = [_pacer(sessions, time), _pacer(sessions, time)]
    fanout: list[float] = []
    waits: list[float] = []
    replied: list[float] = []

    async def fan_out(pacer: SharedPacer) -> None:
        for _ in range(150):
            await pacer.acquire("tenant-a")
            fanout.append(time())
        time.finished()

    async def reply(pacer: SharedPacer) -> None:
        for _ in range(40):
            await time.sleep(0.1)  # someone answers
            asked = time()
            await pacer.acquire("tenant-a", urgent=True)
            replied.append(time())
            waits.append(time() - asked)
        time.finished()

    await asyncio.gather(*(fan_out(p) for p in replicas), *(reply(p) for p in replicas))
    assert len(fanout) == 300 and len(replied) == 80
    assert busiest_second(fanout + replied) <= 50
    # Replies are interleaved with the fan-out, not queued behind its 6 s of sending.
    assert max(waits) < 0.25
    assert sorted(waits)[len(waits) // 2] <= 3 / 49.5
    achieved = len(fanout + replied) / (max(fanout + replied) - min(fanout + replied))
    assert achieved > 0.9 * 49.5  # small delays are caught up, not lost


async def test_tenants_have_timetables_of_their_own(sessions):
    time = SimulatedTime(1_800_000_000.0, lambda: 0.0)
    pacer = _pacer(sessions, time, rate=10, limit=10.1)
    for tenant in ("tenant-a", "tenant-b", "tenant-a", "tenant-b"):
        await pacer.acquire(tenant, urgent=True)
    # Each tenant's second slot falls one interval after its first, whatever the other did.
    assert time() == pytest.approx(1_800_000_000.0 + 0.1)


async def test_the_fanout_waits_while_replies_have_booked_the_timetable_ahead(sessions):
    time = SimulatedTime(1_800_000_000.0, lambda: 0.0)
    pacer = _pacer(sessions, time, rate=10, limit=10.1)
    for _ in range(5):  # five replies at once book the next half second
        async with sessions() as session:
            await sendbudget.take(session, "tenant-a", now=time(), interval=0.1)
    async with sessions() as session:
        refused = await sendbudget.take(session, "tenant-a", now=time(), interval=0.1, within=0.1)
    assert not refused.taken and refused.at == pytest.approx(time() + 0.4)
    await pacer.acquire("tenant-a")
    assert time() == pytest.approx(1_800_000_000.0 + 0.5)  # the first slot after the replies'


async def test_a_reply_takes_the_fanouts_next_slot_instead_of_waiting_behind_its_batch(sessions):
    """On a slow database the fan-out books several slots a statement; a reply arriving then
    takes the next of them (no statement, about one interval's wait) rather than the first
    free slot after the batch, and the fan-out books another: no slot is used twice and the
    timetable keeps the rate."""
    start = 1_800_000_000.0
    time = SimulatedTime(start, lambda: 0.0)
    pacer = _pacer(sessions, time, rate=10, limit=10.1)
    pacer.batch = lambda: 5  # statements slow enough for five slots a take
    used = []
    await pacer.acquire("tenant-a")  # books start .. start + 0.4 and uses the first
    used.append(time())
    statements = pacer.statements
    await pacer.acquire("tenant-a", urgent=True)
    used.append(time())
    assert time() == pytest.approx(start + 0.1)  # not start + 0.5, after the batch
    assert pacer.statements == statements  # the slot was already this replica's
    for _ in range(6):
        await pacer.acquire("tenant-a")
        used.append(time())
    assert used == pytest.approx([start + k / 10 for k in range(8)])
    assert busiest_second(used) <= 10


def _adaptive(now):
    pacer = SharedPacer(None, 40, 50, clock=lambda: now[0])
    return pacer, AdaptiveRate(pacer, ceiling=40, clock=lambda: now[0])


def test_scattered_429s_do_not_collapse_the_rate():
    now = [0.0]
    pacer, rate = _adaptive(now)
    for i in range(2000):
        rate.record(throttled=i % 40 == 0)  # 2.5% of conversations throttled on their own
        now[0] += 0.025
    assert pacer.rate == pytest.approx(40)


def test_a_429_among_the_first_sends_is_not_taken_for_the_limit():
    now = [0.0]
    pacer, rate = _adaptive(now)
    for throttled in (False, True, False, False, True, False, False, False):
        rate.record(throttled=throttled)
        now[0] += 1.0
    assert pacer.rate == pytest.approx(40)


def test_a_burst_of_429s_slows_the_rate_and_it_recovers():
    now = [0.0]
    pacer, rate = _adaptive(now)
    for _ in range(30):
        rate.record(throttled=True)
        now[0] += 0.05
    assert pacer.rate < 40 * 0.75
    slowed = pacer.rate
    for _ in range(600):
        rate.record(throttled=False)
        now[0] += 0.1
    assert slowed < pacer.rate <= 40


async def test_leader_only_jobs_run_on_one_replica(make_bot):
    first, second = await make_bot(clock=lambda: NOW), await make_bot(clock=lambda: NOW)
    ran = []

    async def job(services):
        ran.append(services)

    ttl = timedelta(seconds=45)
    await jobs.leader_only("t", job, "replica-1", ttl)(first.services)
    await jobs.leader_only("t", job, "replica-2", ttl)(second.services)
    assert ran == [first.services]


@pytest.fixture
def org_with_lead(org) -> OrgConfig:
    lead = TeamsUser(aad_object_id="00000000-0000-0000-0000-0000000000a2")
    assert lead.aad_object_id in org.roles.wellbeing_leads
    return org


async def test_leads_hear_when_sending_completes_and_when_it_stalls(make_bot, org_with_lead):
    clock = [NOW - timedelta(days=1)]
    bot = await make_bot(clock=lambda: clock[0])
    lead = TeamsUser(aad_object_id="00000000-0000-0000-0000-0000000000a2")
    staff = [TeamsUser() for _ in range(2)]
    for user in (lead, *staff):
        await bot.install(user)
    bot.connector.fail_next(Fault(status=429, retry_after=60, times=1))
    await checkins.tick(bot.services, clock[0])
    clock[0] = NOW
    bot.server.app[SENDER].wake()
    await bot.connector.wait_for(len(bot.connector.sent) + 2)
    for _ in range(200):
        async with bot.services.sessions() as session:
            rows = (await session.exec(select(OutboxMessage.status))).all()
        if "sending" not in rows and "queued" not in rows:
            break
        await asyncio.sleep(0.05)
    await bot.server.app[SENDER].stop()  # no sender makes progress from here on
    clock[0] = NOW + timedelta(minutes=45)
    notices = await checkins.delivery_notices(bot.services, clock[0])
    assert (
        len(notices) == 1
        and "1 check-in is waiting and nothing has gone out for 44 minutes" in notices[0]
    )
    assert "slow down (HTTP 429)" in notices[0]
    assert await checkins.delivery_notices(bot.services, clock[0]) == []  # told once

    async with bot.services.sessions() as session:
        for row in (
            await session.exec(select(OutboxMessage).where(OutboxMessage.status == "retrying"))
        ).all():
            row.status = "sent"
            session.add(row)
        await session.commit()
    notices = await checkins.delivery_notices(bot.services, clock[0])
    assert len(notices) == 1 and "sending is complete. 3 delivered" in notices[0]


async def _queue_people(sessions, connector, count: int) -> None:
    from core.events import PersonalChat, Reply
    from core.store import outbox
    from core.store.directory import ConversationInfo, remember_conversation, remember_person

    async with sessions() as session:
        for i in range(count):
            aad = f"p{i}"
            await remember_person(
                session,
                aad,
                "t",
                teams_user_id=f"29:{aad}",
                personal_conversation_id=f"a:{aad}",
                now=NOW,
            )
            await remember_conversation(
                session,
                ConversationInfo(
                    id=f"a:{aad}",
                    kind="personal",
                    tenant_id="t",
                    service_url=connector.url,
                    bot_id="28:b",
                    reference={},
                    aad_object_id=aad,
                ),
                now=NOW,
            )
            await outbox.enqueue_reply(
                session, "t", Reply(text=f"m{i}", to=PersonalChat(aad)), dedupe_key=f"k{i}", now=NOW
            )
        await session.commit()


def _sender(sessions, transport, **overrides):
    from core.store import outbox
    from scheduler.sender import OutboxSender, SenderSettings

    defaults = {
        "rate_per_second": 500,
        "idle_poll_seconds": 0.02,
        "batch_size": 8,
        "retry": outbox.RetryPolicy(max_attempts=10, base_seconds=0.01, max_seconds=0.05),
    }
    settings = SenderSettings(**{**defaults, **overrides})
    return OutboxSender(sessions, transport, settings, clock=RunningClock(NOW))


@pytest.fixture
async def transport():
    from bot.connector import ConnectorTransport
    from core.config.settings import Settings

    transport = ConnectorTransport(Settings(_env_file=None), None, timeout=1.0, connect_timeout=1.0)
    await transport.start()
    yield transport
    await transport.close()


async def _run_until(sender, done, seconds: float = 30.0) -> None:
    running = asyncio.create_task(sender.run())
    try:
        for _ in range(int(seconds / 0.05)):
            if await done():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the sender did not finish in time")
    finally:
        await sender.stop(grace_seconds=1)
        await running


async def test_a_burst_of_429s_slows_sending_and_drops_nothing(sessions, connector, transport):
    await _queue_people(sessions, connector, 30)
    connector.fail_next(Fault(status=429, retry_after=0, times=25))
    sender = _sender(sessions, transport)
    start_rate = sender.pacer.rate

    async def all_sent() -> bool:
        return len(connector.texts()) >= 30

    await _run_until(sender, all_sent)
    assert sorted(connector.texts()) == sorted(f"m{i}" for i in range(30))
    assert sender.pacer.rate < start_rate


async def test_the_database_going_away_mid_fanout_and_back(
    make_bot, database_url, connector, transport
):
    from sqlalchemy.engine import make_url

    from tests.support.tcp_proxy import TcpProxy

    if not database_url.startswith("postgresql"):
        pytest.skip("cutting a TCP connection needs a database server (PostgreSQL)")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    engine = db.create_engine(proxied)
    await db.migrate(engine)
    sessions = db.session_factory(engine)
    try:
        await _queue_people(sessions, connector, 40)
        connector.fail_next(Fault(hang=True, times=1))  # one send hangs, then times out
        sender = _sender(sessions, transport, rate_per_second=20)
        running = asyncio.create_task(sender.run())
        await connector.wait_for(5)
        await proxy.cut()
        await asyncio.sleep(1.0)
        during = len(connector.texts())
        await proxy.restore()
        for _ in range(600):
            if len(set(connector.texts())) >= 40:
                break
            await asyncio.sleep(0.05)
        await sender.stop(grace_seconds=1)
        await running
        texts = connector.texts()
        assert sorted(set(texts)) == sorted(f"m{i}" for i in range(40)), "nothing lost"
        assert during < 40
        async with sessions() as session:
            statuses = (await session.exec(select(OutboxMessage.status))).all()
        assert set(statuses) == {"sent"}
    finally:
        await engine.dispose()
        await proxy.close()


async def test_a_reply_never_waits_long_for_its_slot(sessions):
    """Someone is waiting for a reply: however far ahead the timetable is booked, it waits at
    most REPLY_WAIT (Teams' 429 answer, retried or handed to the outbox, covers the rest),
    and a reply that wakes late books again at most once."""
    time = SimulatedTime(1_800_000_000.0, lambda: 0.5)  # the loop wakes half a second late
    pacer = _pacer(sessions, time, rate=1, limit=1.01)
    for _ in range(30):  # thirty seconds of the timetable already booked
        async with sessions() as session:
            await sendbudget.take(session, "tenant-a", now=time(), interval=1.0)
    started = time()
    await pacer.acquire("tenant-a", urgent=True)
    assert time() - started <= SharedPacer.REPLY_WAIT + 0.5
    assert pacer.given_up <= 1
