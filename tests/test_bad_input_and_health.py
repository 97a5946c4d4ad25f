"""Bad requests get clear 4xx answers, health endpoints tell the truth, and logs hold no text."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sqlite3
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot import handler
from core.logs import configure_logging
from core.store.outbox import OutboxMessage
from dialogs.support import CRISIS_WORDING
from tests.conftest import POSTGRES_URL
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.fake_connector import Fault
from tests.support.rows import row_counts
from tests.support.tcp_proxy import TcpProxy


def _message_with_text(raw_json: bytes) -> bytes:
    """A real personal message whose `text` is `raw_json`, as written."""
    activity = activities.personal_message(TeamsUser(), "http://127.0.0.1:9/", "PLACEHOLDER")
    return json.dumps(activity).encode().replace(b'"PLACEHOLDER"', raw_json)


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
        (b'{"type": "message"}', "application/json", 400),
        (b'{"type": "message"}', "text/plain", 415),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        (b'{"a":' * 5_000 + b"1" + b"}" * 5_000, "application/json", 400),
        (_message_with_text(b'{"a":' * 40 + b"1" + b"}" * 40), "application/json", 400),
        (_message_with_text(b"7" * 5_000), "application/json", 400),
        (_message_with_text(b"NaN"), "application/json", 400),
        (_message_with_text(b"1e400"), "application/json", 400),
        (_message_with_text(b'"\\ud800"'), "application/json", 400),
        (_message_with_text(b'"a\\u0000b"'), "application/json", 400),
    ],
    ids=[
        "truncated",
        "not-utf8",
        "array",
        "no-type",
        "no-conversation",
        "wrong-content-type",
        "100000-nested-arrays",
        "5000-nested-objects",
        "40-nested-objects",
        "5000-digit-number",
        "nan",
        "infinite-number",
        "unpaired-surrogate",
        "nul-character",
    ],
)
async def test_malformed_requests_get_4xx_not_500(bot, body, content_type, status):
    response = await bot.post({}, data=body, headers={"Content-Type": content_type})
    assert response.status == status
    assert "error" in json.loads(await response.text())
    assert bot.connector.sent == []


async def test_an_oversized_body_gets_413(bot):
    activity = activities.personal_message(TeamsUser(), bot.connector.url, "x" * (1024 * 1024 + 1))
    response = await bot.post({}, data=io.BytesIO(json.dumps(activity).encode()))
    assert response.status == 413
    assert bot.connector.sent == []


@pytest.mark.parametrize("kind", ["typing", "messageReaction", "event", "endOfConversation"])
async def test_activity_types_the_bot_does_not_handle_are_acknowledged(bot, kind):
    activity = activities.personal_message(TeamsUser(), bot.connector.url, "")
    activity["type"] = kind
    response = await bot.post(activity)
    assert response.status == 200
    assert bot.connector.sent == []


async def test_channel_messages_without_a_mention_are_ignored(bot):
    user, team = TeamsUser(), activities.TeamsTeam()
    activity = activities.channel_message(user, team, bot.connector.url, "help", mention=False)
    assert (await bot.post(activity)).status == 200
    assert bot.connector.sent == []


async def test_a_failing_turn_apologises_and_logs_no_message_text(bot, caplog):
    async with bot.services.sessions() as session:
        await session.exec(text("DROP TABLE participation"))
        await session.commit()
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    secret = "my-private-words-about-my-health"
    user = TeamsUser()
    replies = await bot.say(user, f"pause {secret}")
    assert "pause" in replies[0]["text"].lower()  # bad argument: explained, nothing stored
    replies = await bot.say(user, "pause 2 weeks")
    assert replies[-1]["text"].startswith("Sorry, something went wrong")
    assert "turn failed" in caplog.text
    assert secret not in caplog.text and user.aad_object_id not in caplog.text


async def test_health_and_readiness(bot):
    async with bot.session.get(bot.server.make_url("/healthz")) as response:
        assert response.status == 200
    async with bot.session.get(bot.server.make_url("/readyz")) as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ready"


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
async def test_database_going_away_makes_readyz_503_and_the_bot_recovers(
    make_bot, database_url, caplog
):
    if not database_url.startswith("postgresql"):
        pytest.skip("cutting a TCP connection needs a database server (PostgreSQL)")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        bot = await make_bot(DATABASE_URL=proxied)
        user = TeamsUser()
        await bot.install(user)
        readyz = bot.server.make_url("/readyz")

        await proxy.cut()
        async with bot.session.get(readyz) as response:
            assert response.status == 503
            body = await response.json()
            assert body["status"] == "unavailable" and "database unreachable" in body["reason"]
        assert "readiness: database unreachable" in caplog.text

        await proxy.restore()
        await asyncio.sleep(0.1)
        async with bot.session.get(readyz) as response:
            assert response.status == 200
        replies = await bot.say(user, "help")
        assert replies and "attachments" in replies[0]
        await bot.session.close()
        await bot.server.close()  # before the proxy goes, so shutdown finds its database
    finally:
        await proxy.close()


TEAMS_WAITS = 14.0
"""A guard, not a measurement: Teams gives up on an answer after 15 s."""
READYZ_WAITS = 6.0
"""A guard: a load balancer's readiness probe gives up after a few seconds (ours answers in 3)."""


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")
async def test_a_database_that_drops_packets_gets_an_apology_in_time_and_readyz_503(
    make_bot, database_url, caplog
):
    if not database_url.startswith("postgresql"):
        pytest.skip("a partition needs a database server (PostgreSQL)")
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        bot = await make_bot(
            DATABASE_URL=proxied, WELLBEING_TURN_TIMEOUT=2, WELLBEING_DATABASE_TIMEOUT=2
        )
        user = TeamsUser()
        await bot.install(user)

        proxy.partition()  # connections stay open and new ones are accepted; nothing answers
        async with asyncio.timeout(READYZ_WAITS):
            async with bot.session.get(bot.server.make_url("/readyz")) as response:
                assert response.status == 503
                assert "database unreachable" in (await response.json())["reason"]
        async with asyncio.timeout(TEAMS_WAITS):
            replies = await bot.say(user, "help")
        assert [r["text"] for r in replies] == [handler.DATABASE_APOLOGY]
        async with asyncio.timeout(TEAMS_WAITS):
            pressed = await bot.post(
                activities.card_execute(
                    user, bot.connector.url, "checkin.submit", {"command": "checkin submit"}
                )
            )
        assert (await pressed.json())["value"] == handler.DATABASE_APOLOGY
        assert "turn gave up waiting for the database" in caplog.text

        proxy.heal()
        await bot.session.close()
        await bot.server.close()
    finally:
        await proxy.close()


async def test_a_locked_sqlite_database_gets_an_apology_in_time(make_bot, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's own lock")
    bot = await make_bot(WELLBEING_TURN_TIMEOUT=2)
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another writer holds the database
        async with asyncio.timeout(TEAMS_WAITS):
            replies = await bot.say(TeamsUser(), "help")
        assert len(replies) == 1 and replies[0]["text"].startswith("Sorry")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_a_crisis_message_gets_its_card_even_when_the_database_is_locked(
    make_bot, database_url
):
    """The crisis check and card need no records: a person at risk must never hear only that
    the bot cannot reach them."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's own lock")
    bot = await make_bot(WELLBEING_TURN_TIMEOUT=2)
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        async with asyncio.timeout(TEAMS_WAITS):
            replies = await bot.say(TeamsUser(), "i want to end it all")
        [card] = [a["content"] for r in replies for a in r.get("attachments", [])]
        assert card["body"][0]["text"] == CRISIS_WORDING["self"][0]
        assert not any((r.get("text") or "").startswith("Sorry") for r in replies)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_a_reply_refused_for_teams_rate_limit_is_sent_after_retry_after(bot, caplog):
    bot.connector.fail_next(Fault(status=429, retry_after=0.2))
    replies = await bot.say(TeamsUser(), "help")
    assert [a["contentType"] for r in replies for a in r.get("attachments", [])] == [
        "application/vnd.microsoft.card.adaptive"
    ]
    assert "turn failed" not in caplog.text


async def test_a_reply_refused_longer_than_a_turn_can_wait_goes_through_the_outbox(bot, caplog):
    user = TeamsUser()
    bot.connector.fail_next(Fault(status=429, retry_after=30))
    response = await bot.post(activities.personal_message(user, bot.connector.url, "help"))
    assert response.status == 200
    await bot.connector.wait_for(1)  # the outbox's sender delivers it
    [sent] = bot.connector.sent
    assert sent.conversation_id == user.chat_id
    assert sent.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert "turn failed" not in caplog.text
    for _ in range(400):  # the connector answers before the sender records the outcome
        async with bot.services.sessions() as session:
            [row] = (await session.exec(select(OutboxMessage))).all()
        if row.status == "sent":
            break
        await asyncio.sleep(0.05)
    assert row.purpose == "reply" and row.status == "sent"
    assert row.payload == "{}"  # sealed while it waited; nothing of it kept once sent


async def test_an_unreachable_connector_is_logged_without_ids_and_answered(bot, caplog):
    configure_logging("INFO")
    user = TeamsUser()
    activity = activities.personal_message(user, "http://127.0.0.1:9/", "help")
    response = await bot.post(activity)
    assert response.status == 200
    assert "turn failed" in caplog.text and "could not apologise either" in caplog.text
    assert user.aad_object_id not in caplog.text and "127.0.0.1:9" not in caplog.text


def _without_conversation_id(user, url):
    activity = activities.personal_message(user, url, "help")
    del activity["conversation"]["id"]
    return activity


def _with_mention(entity):
    def build(user, url):
        activity = activities.personal_message(user, url, f"<at>{activities.BOT_NAME}</at> help")
        activity["entities"].insert(0, entity)
        return activity

    return build


def _with(path: str, value):
    """A personal message with one field replaced, e.g. _with("channelData.tenant", "x")."""

    def build(user, url):
        activity = activities.personal_message(user, url, "help")
        *parents, last = path.split(".")
        node = activity
        for key in parents:
            node = node[key]
        node[last] = value
        return activity

    return build


def _execute(data):
    return lambda user, url: dict(
        activities.card_execute(user, url, "checkin submit", {}),
        value={"action": {"type": "Action.Execute", "verb": "checkin submit", "data": data}},
    )


def _checkin_submit(**fields):
    def build(user, url):
        value = {"command": "checkin submit", "card_id": uuid.uuid4().hex, "mood": "3", **fields}
        return activities.card_submit(user, url, value)

    return build


# What an adversarial pass sent (issue 20), each a crashed turn or stored as it came; the reason
# must name the field.
MALFORMED_ACTIVITIES = {
    "conversation-without-id": (_without_conversation_id, "conversation.id"),
    "mention-of-a-string": (
        _with_mention({"type": "mention", "mentioned": "x", "text": 7}),
        "entities.0",
    ),
    "mention-of-nobody": (_with_mention({"type": "mention"}), "entities.0"),
    "mention-without-id": (
        _with_mention({"type": "mention", "mentioned": {"name": "x"}, "text": "<at>x</at>"}),
        "entities.0",
    ),
    "tenant-a-string": (_with("channelData.tenant", "72f988bf"), "channelData.tenant"),
    "tenant-a-list": (_with("channelData.tenant", [{"id": "72f988bf"}]), "channelData.tenant"),
    "from-a-number": (_with("from", 7), "from"),
    "from-true": (_with("from", True), "from"),
    "invoke-data-a-string": (_execute("checkin submit"), "value.action.data"),
    "invoke-data-a-list": (_execute([{"command": "help"}]), "value.action.data"),
    "cycle-id-30-digits": (_checkin_submit(cycle_id="1" * 30), "value.cycle_id"),
    "cycle-id-30-digit-number": (_checkin_submit(cycle_id=10**30), "value.cycle_id"),
    "cycle-id-superscript-two": (_checkin_submit(cycle_id="²"), "value.cycle_id"),
    "week-superscript-two": (_checkin_submit(week="²"), "value.week"),
    "service-url-garbage": (_with("serviceUrl", "not a url"), "serviceUrl"),
    "service-url-ftp": (_with("serviceUrl", "ftp://127.0.0.1/"), "serviceUrl"),
    "card-id-20000-characters": (_checkin_submit(card_id="c" * 20_000), "value.card_id"),
    "conversation-id-100000-characters": (
        _with("conversation.id", "a:" + "x" * 100_000),
        "conversation.id",
    ),
    "user-id-1000-characters": (_with("from.id", "29:" + "x" * 1_000), "from.id"),
    "aad-id-1000-characters": (_with("from.aadObjectId", "x" * 1_000), "from.aadObjectId"),
    "tenant-id-1000-characters": (
        _with("conversation.tenantId", "x" * 1_000),
        "conversation.tenantId",
    ),
    "time-zone-1000-characters": (_with("localTimezone", "x" * 1_000), "localTimezone"),
    "text-100000-characters": (_with("text", "help " * 20_000), "text"),
    "card-input-20000-characters": (_checkin_submit(note="n" * 20_000), "value.*"),
}


@pytest.mark.parametrize("case", list(MALFORMED_ACTIVITIES))
async def test_a_malformed_activity_gets_400_naming_the_field_and_nothing_is_stored(
    bot, caplog, case
):
    build, field = MALFORMED_ACTIVITIES[case]
    caplog.set_level(logging.INFO)
    user = TeamsUser()
    before = await row_counts(bot.services.sessions)
    response = await bot.post(build(user, bot.connector.url))
    assert response.status == 400
    reason = (await response.json())["error"]
    assert reason.startswith(field), reason
    assert "turn failed" not in caplog.text
    assert bot.connector.sent == []
    assert await row_counts(bot.services.sessions) == before
    assert user.aad_object_id not in caplog.text


@pytest.mark.parametrize("name", ["composeExtension/query", "task/fetch", "signin/verifyState"])
async def test_invokes_the_bot_does_not_handle_are_acknowledged(bot, caplog, name):
    """Teams can send them; the SDK's own answer would be 501, a server error."""
    activity = activities.card_execute(TeamsUser(), bot.connector.url, "x", {})
    activity.update(name=name, value={"commandId": "search", "parameters": []})
    response = await bot.post(activity)
    assert response.status == 200
    assert bot.connector.sent == []
    assert "turn failed" not in caplog.text


async def test_a_mention_of_the_bot_in_a_message_without_text_is_answered(bot, caplog):
    """Found by tests/test_fuzz_edge.py: the SDK's remove_recipient_mention fails on it."""
    activity = activities.channel_message(
        TeamsUser(), activities.TeamsTeam(), bot.connector.url, "help"
    )
    del activity["text"]
    response = await bot.post(activity)
    assert response.status == 200
    assert "turn failed" not in caplog.text
    assert len(bot.connector.sent) == 1  # the fallback, in the thread
