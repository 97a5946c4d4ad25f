"""The durable outbox and its sender, against the fake Bot Connector: delivery, retries, pacing
decisions, permanent failures, hangs, crashes mid-send and graceful stops."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.connector import ConnectorTransport
from core import db
from core.config.settings import Settings
from core.events import Card, ChannelPost, PersonalChat, Reply
from core.privacy.secrets import Secrets, generate, load_secrets
from core.store import outbox
from core.store.directory import ConversationInfo, remember_conversation, remember_person
from core.store.models import Person
from core.store.outbox import OutboxMessage
from scheduler.sender import OutboxSender, SenderSettings
from tests.support.clock import TEST_EPOCH, Clock
from tests.support.fake_connector import Fault
from tests.support.tokens import FixedTokenCredentialsFactory

pytestmark = pytest.mark.time_sensitive

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
FAST = SenderSettings(
    rate_per_second=200,
    batch_size=16,
    lease_seconds=30,
    idle_poll_seconds=0.05,
    retry=outbox.RetryPolicy(max_attempts=4, base_seconds=0.01, max_seconds=0.05),
)


@pytest.fixture
async def sessions(database_url):
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    yield db.session_factory(engine)
    await engine.dispose()


async def _person(sessions, connector, aad: str, *, with_chat: bool = True) -> None:
    async with sessions() as session:
        chat = f"a:personal-{aad}" if with_chat else None
        await remember_person(
            session,
            aad,
            TENANT,
            teams_user_id=f"29:{aad}",
            personal_conversation_id=chat,
            now=TEST_EPOCH,
        )
        if chat is None:
            person = await session.get(Person, aad)
            person.personal_installed = False
        await remember_conversation(
            session,
            ConversationInfo(
                id=chat or "19:team@thread.tacv2",
                kind="personal" if chat else "channel",
                tenant_id=TENANT,
                service_url=connector.url,
                bot_id="28:bot",
                reference={},
                aad_object_id=aad if chat else None,
                team_id=None if chat else "19:team@thread.tacv2",
            ),
            now=TEST_EPOCH,
        )
        await session.commit()


async def _queue(sessions, to, text="Hello", dedupe_key=None, now=TEST_EPOCH) -> bool:
    async with sessions() as session:
        added = await outbox.enqueue_reply(
            session, TENANT, Reply(text=text, to=to), dedupe_key=dedupe_key, now=now
        )
        await session.commit()
        return added


async def _rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def _drain(sender: OutboxSender, clock: Clock, rounds: int = 20) -> None:
    for _ in range(rounds):
        if not await sender.run_once():
            clock.now += timedelta(seconds=1)


async def test_a_queued_reply_is_delivered_once_to_the_stored_chat(sessions, transport, connector):
    clock = Clock()
    await _person(sessions, connector, "p1")
    assert await _queue(sessions, PersonalChat("p1"), dedupe_key="checkin:2026-11-25:p1")
    assert not await _queue(sessions, PersonalChat("p1"), dedupe_key="checkin:2026-11-25:p1")
    sender = OutboxSender(sessions, transport, FAST, clock=clock)
    await _drain(sender, clock)
    assert connector.texts("a:personal-p1") == ["Hello"]
    [row] = await _rows(sessions)
    assert row.status == "sent" and row.attempts == 1 and row.sent_activity_id


async def test_cards_are_rendered_when_sent(sessions, transport, connector):
    clock = Clock()
    await _person(sessions, connector, "p1")
    async with sessions() as session:
        await outbox.enqueue_reply(
            session,
            TENANT,
            Reply(
                card=Card("fallback", {"message": "Hi there"}, "Hi there"), to=PersonalChat("p1")
            ),
            now=clock.now,
        )
        await session.commit()
    await _drain(OutboxSender(sessions, transport, FAST, clock=clock), clock)
    [card] = connector.cards()
    assert card["body"][0]["text"] == "Hi there" and card["fallbackText"] == "Hi there"


def _secrets() -> Secrets:
    keys = generate()
    return load_secrets(
        keys["WELLBEING_PSEUDONYM_KEY"], keys["WELLBEING_DATA_KEYS"], local_mode=False
    )


async def test_a_sealed_message_is_stored_encrypted_and_sent_in_clear(
    sessions, transport, connector
):
    clock = Clock()
    secrets = _secrets()
    await _person(sessions, connector, "p1")
    await _person(sessions, connector, "p2")
    async with sessions() as session:
        for person in ("p1", "p2"):
            await outbox.enqueue_reply(
                session,
                TENANT,
                Reply(text="Call Sam on 07700 900123", to=PersonalChat(person)),
                secrets=secrets,
                now=clock.now,
            )
        await session.commit()
    rows = await _rows(sessions)
    assert all(r.payload.startswith(outbox.SEALED) and "07700" not in r.payload for r in rows)
    with pytest.raises(outbox.SealedPayloadError):
        outbox.unpack(rows[0].payload, None)

    await _drain(OutboxSender(sessions, transport, FAST, clock=clock, secrets=secrets), clock)
    assert (
        connector.texts("a:personal-p1")
        == connector.texts("a:personal-p2")
        == ["Call Sam on 07700 900123"]
    )


async def test_a_sealed_message_no_key_can_open_fails_without_a_request(
    sessions, transport, connector
):
    clock = Clock()
    await _person(sessions, connector, "p1")
    async with sessions() as session:
        await outbox.enqueue_reply(
            session,
            TENANT,
            Reply(text="private", to=PersonalChat("p1")),
            secrets=_secrets(),
            now=clock.now,
        )
        await session.commit()
    await _drain(OutboxSender(sessions, transport, FAST, clock=clock), clock)
    [row] = await _rows(sessions)
    assert row.status == "failed" and "no data key" in row.last_error
    assert connector.sent == []


async def test_a_roster_member_without_a_chat_gets_one_created_and_remembered(
    sessions, transport, connector
):
    clock = Clock()
    await _person(sessions, connector, "p2", with_chat=False)
    await _queue(sessions, PersonalChat("p2"))
    await _drain(OutboxSender(sessions, transport, FAST, clock=clock), clock)
    created = [s for s in connector.sent if s.path == "/v3/conversations"]
    assert created and created[0].body["members"] == [{"id": "29:p2"}]
    assert connector.texts("a:personal-29:p2") == ["Hello"]
    async with sessions() as session:
        assert (await session.get(Person, "p2")).personal_conversation_id == "a:personal-29:p2"


async def test_429_with_retry_after_is_retried_and_delivered(sessions, transport, connector):
    clock = Clock()
    await _person(sessions, connector, "p1")
    await _queue(sessions, PersonalChat("p1"))
    connector.fail_next(Fault(status=429, retry_after=2, times=3))
    sender = OutboxSender(sessions, transport, FAST, clock=clock)
    await sender.run_once()
    [row] = await _rows(sessions)
    assert row.status == "retrying" and row.next_attempt_at >= clock.now + timedelta(seconds=2)
    await _drain(sender, clock, rounds=30)
    [row] = await _rows(sessions)
    assert row.status == "sent" and row.attempts == 4
    assert connector.texts() == ["Hello"]


async def test_retries_are_bounded(sessions, transport, connector):
    clock = Clock()
    await _person(sessions, connector, "p1")
    await _queue(sessions, PersonalChat("p1"))
    connector.fail_next(Fault(status=503, times=100))
    await _drain(OutboxSender(sessions, transport, FAST, clock=clock), clock, rounds=30)
    [row] = await _rows(sessions)
    assert row.status == "failed" and row.attempts == FAST.retry.max_attempts
    assert row.last_error == "HTTP 503"


# Teams' 403s that are final until the person reinstalls or writes to the bot again, in the
# two body shapes it uses (docs: "Status codes from bot conversational APIs" and "Proactive
# messages": a block answers {"errorCode": 209, "message": "{\"subCode\": …}"}).
FINAL_403 = {
    "ConversationBlockedByUser": Fault(status=403, code="ConversationBlockedByUser"),
    "BotDisabledByAdmin": Fault(status=403, code="BotDisabledByAdmin"),
    "BotNotInConversationRoster": Fault(status=403, code="BotNotInConversationRoster"),
    "ForbiddenOperationException": Fault(status=403, code="ForbiddenOperationException"),
    "MessageWritesBlocked": Fault(
        status=403,
        body={
            "errorCode": 209,
            "message": json.dumps(
                {
                    "subCode": "MessageWritesBlocked",
                    "details": "Thread is blocked from message writes.",
                    "errorCode": None,
                    "errorSubCode": None,
                }
            ),
        },
    ),
}


@pytest.mark.parametrize("code", sorted(FINAL_403))
async def test_a_final_403_marks_the_person_unreachable_and_is_not_retried(
    sessions, transport, connector, code
):
    clock = Clock()
    await _person(sessions, connector, "p1")
    await _queue(sessions, PersonalChat("p1"))
    connector.fail_next(FINAL_403[code])
    await _drain(OutboxSender(sessions, transport, FAST, clock=clock), clock)
    [row] = await _rows(sessions)
    assert row.status == "unreachable" and row.attempts == 1
    assert row.last_error == f"HTTP 403 {code}"
    async with sessions() as session:
        assert (await session.get(Person, "p1")).unreachable_since is not None


@pytest.mark.parametrize("code", ["NotEnoughPermissions", "InvalidBotApiHost", "Fault"])
async def test_another_403_fails_that_message_and_marks_the_person_only_when_it_repeats(
    sessions, transport, connector, code
):
    clock = Clock()
    await _person(sessions, connector, "p1")
    sender = OutboxSender(sessions, transport, FAST, clock=clock)

    async def send_refused() -> bool:
        await _queue(sessions, PersonalChat("p1"))
        connector.fail_next(Fault(status=403, code=code))
        await _drain(sender, clock)
        async with sessions() as session:
            return (await session.get(Person, "p1")).unreachable_since is not None

    assert not await send_refused()
    assert not await send_refused()
    await _queue(sessions, PersonalChat("p1"))  # delivered: the refusals in a row start again
    await _drain(sender, clock)
    assert not await send_refused()
    assert not await send_refused()
    rows = await _rows(sessions)
    assert [r.status for r in rows] == ["failed", "failed", "sent", "failed", "failed"]
    assert all(r.attempts == 1 for r in rows) and rows[0].last_error == f"HTTP 403 {code}"
    assert await send_refused()  # the third in a row


async def test_a_hanging_connector_times_out_and_the_message_is_retried(
    sessions, transport, connector
):
    clock = Clock()
    await _person(sessions, connector, "p1")
    await _queue(sessions, PersonalChat("p1"))
    connector.fail_next(Fault(hang=True))
    sender = OutboxSender(sessions, transport, FAST, clock=clock)
    await sender.run_once()
    [row] = await _rows(sessions)
    assert row.status == "retrying" and row.last_status_code == 0 and row.last_error == "timed out"
    await _drain(sender, clock)
    assert connector.texts() == ["Hello"]


async def test_unknown_recipients_are_unreachable_not_retried_for_ever(
    sessions, transport, connector
):
    clock = Clock()
    await _queue(sessions, PersonalChat("nobody"))
    await _queue(sessions, ChannelPost("19:gone@thread.tacv2"))
    await _drain(OutboxSender(sessions, transport, FAST, clock=clock), clock)
    rows = await _rows(sessions)
    assert [r.status for r in rows] == ["unreachable", "unreachable"]
    assert connector.sent == []


async def test_a_sender_that_dies_mid_send_is_replaced_after_its_lease(
    sessions, transport, connector
):
    """The only duplicate window: a claim whose sender died. It is counted in `reclaimed`."""
    clock = Clock()
    await _person(sessions, connector, "p1")
    await _queue(sessions, PersonalChat("p1"))
    async with sessions() as session:
        await outbox.claim(session, "dead-replica", 10, clock.now, timedelta(seconds=30))
    survivor = OutboxSender(sessions, transport, FAST, clock=clock, worker="survivor")
    assert await survivor.run_once() == 0  # leased to the dead one
    clock.now += timedelta(seconds=31)
    assert await survivor.run_once() == 1
    [row] = await _rows(sessions)
    assert row.status == "sent" and row.reclaimed == 1
    assert connector.texts() == ["Hello"]


async def test_a_claim_with_too_little_lease_left_goes_back_unsent(sessions, transport, connector):
    """A slow wait for a slot (a slow database, a cut rate) must not end in a send another
    sender may repeat once the lease runs out: the row is handed back and sent later, once."""
    clock = Clock()
    await _person(sessions, connector, "p1")
    await _queue(sessions, PersonalChat("p1"))
    sender = OutboxSender(sessions, transport, FAST, clock=clock)
    waited = sender.pacer.acquire

    async def slow_slot(tenant_id: str, urgent: bool = False) -> None:
        clock.now += timedelta(seconds=FAST.lease_seconds * 0.8)  # the lease is nearly gone
        await waited(tenant_id, urgent=urgent)

    sender.pacer.acquire = slow_slot
    assert await sender.run_once() == 1
    assert connector.texts() == []
    await sender._release_unsent()
    [row] = await _rows(sessions)
    assert row.status == "retrying" and row.claimed_by is None and row.attempts == 0

    sender.pacer.acquire = waited
    await _drain(sender, clock)
    assert connector.texts() == ["Hello"]


async def test_nothing_is_lost_when_the_process_dies_before_sending(sessions, transport, connector):
    """Queued work survives a crash: a new sender (a restarted process) delivers all of it once."""
    clock = Clock()
    for i in range(5):
        await _person(sessions, connector, f"p{i}")
        await _queue(sessions, PersonalChat(f"p{i}"), text=f"m{i}", dedupe_key=f"k{i}")
    await _drain(OutboxSender(sessions, transport, FAST, clock=clock, worker="restarted"), clock)
    assert sorted(connector.texts()) == [f"m{i}" for i in range(5)]


async def test_graceful_stop_hands_unsent_work_back(sessions, transport, connector):
    clock = Clock()
    for i in range(3):
        await _person(sessions, connector, f"p{i}")
        await _queue(sessions, PersonalChat(f"p{i}"), text=f"m{i}")
    connector.fail_next(Fault(hang=True, times=3))
    slow = ConnectorTransport(
        Settings(_env_file=None), FixedTokenCredentialsFactory("x"), timeout=30
    )
    await slow.start()
    sender = OutboxSender(sessions, slow, FAST, clock=clock, worker="stopping")
    running = asyncio.create_task(sender.run_once())
    await asyncio.sleep(0.3)
    await sender.stop(grace_seconds=0.2)
    running.cancel()
    await slow.close()
    rows = await _rows(sessions)
    assert {r.status for r in rows} == {"retrying"} and all(r.claimed_by is None for r in rows)
    assert all(r.attempts == 0 for r in rows)
    await _drain(OutboxSender(sessions, transport, FAST, clock=clock), clock)
    assert sorted(connector.texts()) == ["m0", "m1", "m2"]


def test_backoff_grows_is_jittered_bounded_and_honours_retry_after():
    policy = outbox.RetryPolicy(base_seconds=1, max_seconds=60)
    rng = random.Random(7)
    delays = [policy.delay(n, None, rng) for n in range(1, 9)]
    assert all(
        0.5 * min(60, 2 ** (n - 1)) <= d <= min(60, 2 ** (n - 1)) for n, d in enumerate(delays, 1)
    )
    assert policy.delay(1, 30, rng) == 30


def test_payload_round_trips_as_json():
    reply = Reply(text="Hi", card=Card("help", {"rows": []}, "x"), to=PersonalChat("p"))
    from core.events import reply_from_payload, reply_payload

    back = reply_from_payload(json.loads(json.dumps(reply_payload(reply))))
    assert back.text == "Hi" and back.card == reply.card and back.to is None
