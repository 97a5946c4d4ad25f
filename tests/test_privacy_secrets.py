"""Rotating the data key: put the new key first, run `wellbeing-bot secrets rotate`, and
everything stored reads with the new key alone."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from cryptography.fernet import Fernet
from sqlmodel import select

from bot.cli import main
from core.events import PersonalChat, Reply
from core.privacy.secrets import Secrets
from core.store import outbox
from core.store.audit import AuditEntry
from core.store.models import StateRecord
from core.store.outbox import OutboxMessage
from core.store.wellbeing import CheckinAnswer
from tests.conftest import TEST_SECRETS
from tests.support.activities import TeamsUser
from tests.test_manager_digest import answer


async def test_rotation_re_encrypts_notes_and_conversation_state(
    make_bot, database_url, monkeypatch, capsys
):
    bot = await make_bot()
    user = TeamsUser()
    await answer(bot, user, None, mood="3", note="only for me")
    await bot.say(user, "check in by text")
    await bot.say(user, "2")  # dialog data in conversation state, encrypted
    async with bot.services.sessions() as session:  # a coordinator's card waiting to be sent
        await outbox.enqueue_reply(
            session,
            "tenant",
            Reply(text="Call Sam", to=PersonalChat("someone")),
            secrets=bot.services.secrets,
            now=bot.services.clock(),
            not_before=datetime(2999, 1, 1, tzinfo=UTC),
        )
        await session.commit()

    old = TEST_SECRETS["WELLBEING_DATA_KEYS"]
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("WELLBEING_PSEUDONYM_KEY", TEST_SECRETS["WELLBEING_PSEUDONYM_KEY"])
    monkeypatch.setenv("WELLBEING_DATA_KEYS", f"{new},{old}")
    monkeypatch.delenv("WELLBEING_ORG_CONFIG", raising=False)
    assert await asyncio.to_thread(main, ["secrets", "rotate"]) == 0
    assert "Re-encrypted 1 note(s), 1 conversation state" in capsys.readouterr().out

    only_new = Secrets(bytes.fromhex(TEST_SECRETS["WELLBEING_PSEUDONYM_KEY"]), (new,))
    async with bot.services.sessions() as session:
        [row] = (await session.exec(select(CheckinAnswer))).all()
        assert only_new.decrypt(row.note) == "only for me"
        states = (await session.exec(select(StateRecord))).all()
        tokens = [
            json.loads(s.document)["dialog"]["dialog"]["data"]
            for s in states
            if json.loads(s.document).get("dialog", {}).get("dialog")
        ]
        assert tokens and all(json.loads(only_new.decrypt(t))["mood"] == 2 for t in tokens)
        [queued] = (await session.exec(select(OutboxMessage))).all()
        assert outbox.unpack(queued.payload, only_new)["text"] == "Call Sam"
        actions = [e.action for e in (await session.exec(select(AuditEntry))).all()]
    assert actions == ["secrets_rotate"]
