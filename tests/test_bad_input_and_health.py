"""Bad requests get clear 4xx answers, health endpoints tell the truth, and logs hold no text."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.logs import configure_logging
from tests.conftest import POSTGRES_URL
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.tcp_proxy import TcpProxy


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
        (b'{"type": "message"}', "application/json", 400),
        (b'{"type": "message"}', "text/plain", 415),
    ],
    ids=["truncated", "not-utf8", "array", "no-type", "no-conversation", "wrong-content-type"],
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


async def test_an_unreachable_connector_is_logged_without_ids_and_answered(bot, caplog):
    configure_logging("INFO")
    user = TeamsUser()
    activity = activities.personal_message(user, "http://127.0.0.1:9/", "help")
    response = await bot.post(activity)
    assert response.status == 200
    assert "turn failed" in caplog.text and "could not apologise either" in caplog.text
    assert user.aad_object_id not in caplog.text and "127.0.0.1:9" not in caplog.text
