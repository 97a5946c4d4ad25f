"""Teams' per-app limit, through the real endpoint and the fake Bot Connector: a reply refused
with 429 is sent again or handed to the outbox (in a channel, a group chat or personal chat),
never lost; and the replies of every replica take their slots from the same per-tenant
timetable in the database as the fan-out, so together they never go over the limit."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import select

from bot.app import SENDER
from core.events import PersonalChat, Reply
from core.store import outbox
from core.store.directory import ConversationInfo, remember_conversation, remember_person
from core.store.outbox import OutboxMessage
from scheduler.pacing import SharedPacer
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser
from tests.support.clock import TEST_EPOCH, RunningClock
from tests.support.fake_connector import Fault, busiest_second

pytestmark = pytest.mark.time_sensitive


async def _settled(bot) -> list[OutboxMessage]:
    """The outbox's rows once none waits or is being sent (the connector answers before the
    sender writes what it answered)."""
    for _ in range(400):
        async with bot.services.sessions() as session:
            rows = list((await session.exec(select(OutboxMessage))).all())
        if rows and all(row.status in outbox.FINAL_STATES for row in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not settle")


async def test_a_channel_reply_refused_for_the_rate_limit_goes_to_its_thread_by_the_outbox(
    bot, caplog
):
    user, team = TeamsUser(), TeamsTeam()
    message = activities.channel_message(user, team, bot.connector.url, "help")
    bot.connector.fail_next(Fault(status=429, retry_after=30))
    response = await bot.post(message)
    assert response.status == 200
    await bot.connector.wait_for(1)  # the outbox's sender delivers it
    [sent] = bot.connector.sent
    assert sent.conversation_id == message["conversation"]["id"]  # the same thread
    assert sent.path.endswith("/activities") and sent.body.get("attachments")
    [row] = await _settled(bot)
    assert row.purpose == "reply" and row.status == "sent"
    assert row.conversation_id == team.thread_id and row.payload == "{}"
    assert "turn failed" not in caplog.text


async def test_a_group_chat_reply_refused_on_every_try_goes_through_the_outbox(bot, caplog):
    user = TeamsUser()
    chat = "19:meeting_abc@thread.v2"
    bot.connector.fail_next(Fault(status=429, retry_after=0.05, times=4))  # each try refused
    response = await bot.post(activities.group_chat_message(user, bot.connector.url, chat, "help"))
    assert response.status == 200
    await bot.connector.wait_for(1)
    [sent] = bot.connector.sent
    assert sent.conversation_id == chat and sent.body.get("attachments")
    [row] = await _settled(bot)
    assert row.status == "sent" and row.thread_id is None
    assert "turn failed" not in caplog.text


async def test_a_personal_reply_refused_once_is_sent_again_in_the_turn(bot):
    user = TeamsUser()
    bot.connector.fail_next(Fault(status=429, retry_after=0.05))
    replies = await bot.say(user, "help")
    assert replies and replies[0].get("attachments")
    async with bot.services.sessions() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


async def _queue_fanout(bot, people: int) -> None:
    """A check-in's worth of messages to people with a chat, in the users' tenant."""
    tenant = TeamsUser().tenant_id
    async with bot.services.sessions() as session:
        for i in range(people):
            aad, chat = f"fan-{i}", f"a:fan-{i}"
            await remember_person(
                session,
                aad,
                tenant,
                teams_user_id=f"29:{aad}",
                personal_conversation_id=chat,
                now=TEST_EPOCH,
            )
            await remember_conversation(
                session,
                ConversationInfo(
                    id=chat,
                    kind="personal",
                    tenant_id=tenant,
                    service_url=bot.connector.url,
                    bot_id="28:bot",
                    reference={},
                    aad_object_id=aad,
                ),
                now=TEST_EPOCH,
            )
            await outbox.enqueue_reply(
                session, tenant, Reply(text=f"m{i}", to=PersonalChat(aad)), now=TEST_EPOCH
            )
        await session.commit()


async def test_two_replicas_replies_and_fanout_share_one_budget_and_stay_under_it(
    make_bot, monkeypatch
):
    """Two replicas on one database, both sending a fan-out while people write to each: every
    request to Teams took a slot of the tenant's one timetable (replies first), and together
    they never took more than the limit in any second."""
    limit = 20
    granted: list[tuple[float, bool]] = []
    acquire = SharedPacer.acquire

    async def recorded(self, tenant_id: str, *, urgent: bool = False) -> None:
        await acquire(self, tenant_id, urgent=urgent)
        granted.append((time.time(), urgent))

    monkeypatch.setattr(SharedPacer, "acquire", recorded)
    first = await make_bot(clock=RunningClock(), WELLBEING_TEAMS_RATE_LIMIT=str(limit))
    second = await make_bot(clock=RunningClock(), WELLBEING_TEAMS_RATE_LIMIT=str(limit))
    people = 50
    await _queue_fanout(first, people)
    for replica in (first, second):
        replica.server.app[SENDER].wake()
    await first.connector.wait_for(5)  # the fan-out is under way

    users = [TeamsUser() for _ in range(8)]
    for i, user in enumerate(users):
        replica = (first, second)[i % 2]
        replies = await replica.say(user, "help")
        assert replies, "each answered in its turn"
    await first.connector.wait_for(people + len(users))
    await _settled(first)

    connector = first.connector
    fanned = {s.conversation_id for s in connector.sent if s.conversation_id.startswith("a:fan")}
    assert len(fanned) == people
    assert all(connector.activities(user.chat_id) for user in users)
    assert len(granted) == len(connector.sent)  # every request took a slot, none went without
    assert sum(urgent for _, urgent in granted) == len(users)
    assert busiest_second([at for at, _ in granted]) <= limit
    last_fanout = max(at for at, urgent in granted if not urgent)
    assert all(at < last_fanout for at, urgent in granted if urgent)  # not queued behind it
