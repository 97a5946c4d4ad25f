"""Scale-out mechanics: the leader lease and failover, sharing the rate between live senders,
slowing down on bursts of 429 (but not on scattered ones), and delivery notices to the leads."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import SENDER
from core import db
from core.config.orgconfig import OrgConfig
from core.store import leases
from core.store.outbox import OutboxMessage
from scheduler import checkins, jobs
from scheduler.pacing import AdaptiveRate, RateMeter, SlotPacer, fanout_rate
from tests.support.activities import TeamsUser
from tests.support.clock import RunningClock
from tests.support.fake_connector import Fault

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


def test_the_fanout_keeps_room_for_interactive_replies_and_lends_it_when_quiet():
    assert fanout_rate(50, 0.0, 1) == pytest.approx(49.5)  # quiet: only the 1% floor is kept
    assert fanout_rate(50, 0.0, 3) == pytest.approx(49.5)  # the same for any number of senders
    assert fanout_rate(50, 4.0, 1) == pytest.approx(44.0)  # 4 replies/s seen: keep 6/s
    assert fanout_rate(50, 2.0, 2) == pytest.approx(44.0)  # 2/s on each of two replicas
    assert fanout_rate(50, 40.0, 1) == pytest.approx(40.0)  # never more than the 20% headroom


def _simulate(pacer: SlotPacer, start: float, sends: int, lateness) -> list[float]:
    """When one sender's requests go out, on a simulated clock whose every sleep overruns by
    `lateness()` seconds (a busy event loop)."""
    now = [start]

    async def sleep(seconds: float) -> None:
        now[0] += seconds + lateness()

    pacer._clock, pacer._sleep = (lambda: now[0]), sleep

    async def run() -> list[float]:
        times = []
        for _ in range(sends):
            await pacer.acquire()
            times.append(now[0])
            now[0] += lateness() / 4  # the send itself takes a moment
        return times

    return asyncio.run(run())


def _busiest_second(times: list[float]) -> int:
    times = sorted(times)
    busiest, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


@pytest.mark.parametrize("senders", [1, 3])
def test_senders_on_one_timetable_never_exceed_the_limit_and_lose_little_to_a_late_loop(senders):
    rng = random.Random(7)
    start, sends = 1_800_000_000.0, 900 // senders

    def lateness() -> float:  # mostly a few ms late, now and then much later
        return 0.04 if rng.random() < 0.02 else rng.choice([0.0, 0.001, 0.002, 0.004, 0.008])

    times: list[float] = []
    for rank in range(senders):
        pacer = SlotPacer(49.5, 50, rank=rank, senders=senders)
        times += _simulate(pacer, start + rng.random() * 0.05, sends, lateness)
    assert _busiest_second(times) <= 50
    achieved = len(times) / (max(times) - min(times))
    assert achieved > 0.97 * 49.5  # small delays are caught up, not lost
    assert achieved <= 49.5 * 1.01


def test_a_pacer_uses_a_slot_it_was_a_little_late_for_but_not_an_old_one():
    epoch = 1_800_000_000.0  # real clock values: slot numbers near 1e11
    pacer = SlotPacer(50, 50.5)  # 10 ms of slack
    assert pacer.claim_slot(epoch) == pytest.approx(epoch)
    assert pacer.claim_slot(epoch + 0.028) == pytest.approx(epoch + 0.02)  # 8 ms late: usable
    assert pacer.claim_slot(epoch + 0.5) == pytest.approx(epoch + 0.5)  # was idle: no burst
    assert pacer.claim_slot(epoch + 0.5) == pytest.approx(epoch + 0.52)
    for rate in (49.5, 34.65, 17.3, 50.0):  # a rate cut must never give a slot out twice
        pacer.rate = rate
        taken = [pacer.claim_slot(epoch + 0.6) for _ in range(200)]
        assert all(later - earlier > 0.5 / rate for earlier, later in itertools.pairwise(taken))
    pacer = SlotPacer(50, 50.5)
    pacer.claim_slot(epoch + 0.5)
    pacer.take_part(rank=1, senders=2)
    assert pacer.claim_slot(epoch + 0.5) == pytest.approx(epoch + 0.52)  # every other slot


def test_rate_meter_follows_recent_traffic():
    now = [0.0]
    meter = RateMeter(half_life=10, clock=lambda: now[0])
    for _ in range(100):
        meter.mark()
        now[0] += 0.1
    assert 4 < meter.rate() < 10
    now[0] += 60
    assert meter.rate() < 0.2


def _adaptive(now):
    pacer = SlotPacer(40, 50, clock=lambda: now[0])
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
