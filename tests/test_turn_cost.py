"""What a turn costs the database: one connection lent to the turn's sessions (each still its own
transaction), and no dialog-state row for a conversation that has no dialog in progress."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, text
from sqlmodel import select

from core import db
from core.store.models import StateRecord
from tests.support.activities import TeamsUser, card_execute


async def _connection_id(session) -> int:
    """The DBAPI connection a session runs on (id of the raw driver connection)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return id(raw.driver_connection)


async def test_sessions_in_one_connection_share_it_one_after_another(database_url):
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    sessions = db.session_factory(engine)
    checkouts = []
    event.listen(engine.sync_engine.pool, "checkout", lambda *_: checkouts.append(1))
    try:
        async with sessions.one_connection():
            async with sessions() as first:
                await first.exec(text("CREATE TABLE scratch (n INTEGER)"))
                await first.exec(text("INSERT INTO scratch VALUES (1)"))
                await first.commit()
                lent = await _connection_id(first)
            async with sessions() as second:
                assert await _connection_id(second) == lent
                async with sessions() as nested:  # opened while another is open: its own
                    assert await _connection_id(nested) != lent
                await second.exec(text("INSERT INTO scratch VALUES (2)"))
                # closed without commit: its own transaction is rolled back, the first's stays

            async def elsewhere() -> int:  # a task started from the turn: its own connection
                async with sessions() as session:
                    return await _connection_id(session)

            assert await asyncio.create_task(elsewhere()) != lent
        assert len(checkouts) == 3  # the lent one, the nested session's, the task's
        async with sessions() as after:
            rows = (await after.exec(text("SELECT n FROM scratch"))).all()
        assert [tuple(r) for r in rows] == [(1,)]
    finally:
        await engine.dispose()


async def test_a_check_in_answer_writes_no_empty_dialog_state(bot):
    user = TeamsUser()
    [card] = [a["content"] for r in await bot.say(user, "check in") for a in r["attachments"]]
    data = {**card["actions"][0]["data"], "mood": "4"}
    response = await bot.post(card_execute(user, bot.connector.url, "checkin.submit", data))
    assert "Thank you for checking in" in str(await response.json())
    async with bot.services.sessions() as session:
        assert (await session.exec(select(StateRecord))).all() == []

    await bot.say(user, "check in by text")  # a dialog in progress is stored
    async with bot.services.sessions() as session:
        [state] = (await session.exec(select(StateRecord))).all()
    assert state.key == f"msteams/conversations/{user.chat_id}"
    await bot.say(user, "4")
    await bot.say(user, "skip")
    await bot.say(user, "skip")  # the dialog is over: the row stays, with no dialog in it
    async with bot.services.sessions() as session:
        [state] = (await session.exec(select(StateRecord))).all()
    assert '"dialog": {}' in state.document
