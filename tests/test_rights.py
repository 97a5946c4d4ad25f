"""A person's rights, end to end through the chat: `export my data` gives a short-lived link to
everything held about them, and `delete my data` (after a confirmation) erases their answers,
notes, conversation state and open requests, says what is kept and why, and is audited."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from sqlmodel import select

from core.privacy.aggregates import FrozenRespondent
from core.store.audit import AuditEntry
from core.store.models import StateRecord
from core.store.supportdata import CoordinatorRequest
from core.store.wellbeing import CheckinAnswer
from dialogs import rights
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.test_manager_digest import (
    TUESDAY_OPEN,
    Clock,
    answer,
    close,
    start_team,
    wait_for_digest,
)

pytestmark = pytest.mark.time_sensitive


@pytest.fixture
def clock() -> Clock:
    return Clock(TUESDAY_OPEN)


async def _checked_in(bot, user: TeamsUser, note: str) -> None:
    await answer(bot, user, None, mood="2", affecting="work", note=note, pulse_control="unsure")


def _saved_file(page: bytes) -> dict:
    """The JSON file the export page offers to save (a data: link, so one use gives both)."""
    encoded = re.search(
        rb'download="my-wellbeing-data.json" href="data:application/json;base64,([^"]+)"', page
    )
    assert encoded, "the page offers the file"
    return json.loads(base64.b64decode(encoded.group(1)))


async def _export_link(bot, user: TeamsUser) -> str:
    [reply] = await bot.say(user, "export my data")
    card = reply["attachments"][0]["content"]
    [action] = card["actions"]
    assert action["type"] == "Action.OpenUrl"
    assert "works once, for 15 minutes" in json.dumps(card)
    return urlparse(action["url"]).path


async def _audit(bot) -> list[tuple[str, str]]:
    async with bot.services.sessions() as session:
        rows = (await session.exec(select(AuditEntry).order_by(AuditEntry.id))).all()
    return [(row.actor, row.action) for row in rows]


async def test_export_gives_everything_held_through_a_short_lived_link(make_bot, clock):
    bot = await make_bot(clock=clock)
    user, someone_else = TeamsUser(), TeamsUser()
    await bot.install(user)
    await _checked_in(bot, user, "nights are hard this month")
    await _checked_in(bot, someone_else, "not mine")
    await bot.say(user, "check in by text")
    await bot.say(user, "3")  # a text check-in in progress: held encrypted in conversation state
    await bot.say(user, "cancel")
    await bot.say(user, "check in by text")
    await bot.say(user, "4")

    path = await _export_link(bot, user)
    assert path.startswith(rights.EXPORT_PATH)
    page, page_body = await bot.fetch("GET", path)  # what a link scanner sees: uses nothing
    assert page.status == 200 and page.headers["Cache-Control"] == "no-store"
    assert b'<form method="post">' in page_body and b"Show my data" in page_body
    assert (await bot.fetch("GET", path))[0].status == 200
    response, body = await bot.fetch("POST", path)
    assert response.status == 200 and response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    page = body.decode()
    # Readable by a person: the words the card showed, dates as dates, no internal ids.
    for shown in ("Your check-ins", "Private note", "Low", "Work", "nights are hard this month"):
        assert shown in page, shown
    assert "I have a say in how I do my work." in page and "Not sure" in page
    assert "unsure" not in page and "one you started yourself" in page
    data = _saved_file(body)
    assert data["you"]["aad_object_id"] == user.aad_object_id
    [checkin] = data["check_ins"]
    assert checkin["private_note"] == "nights are hard this month"
    assert checkin["mood"] == "Low" and checkin["affecting_you_most"] == "Work"
    assert checkin["statements"] == {"I have a say in how I do my work.": "Not sure"}
    assert "not mine" not in page and "not mine" not in json.dumps(data)
    states = json.dumps(data["conversation_state"])
    assert '"mood": 4' in states  # decrypted for the person's own copy
    assert data["check_in_choice"]["status"] == "active"
    assert (user.aad_object_id, "export_link") in await _audit(bot)
    assert (user.aad_object_id, "export") in await _audit(bot)

    again, _ = await bot.fetch("POST", path)
    assert again.status == 410
    assert (await bot.fetch("GET", path))[0].status == 410
    fresh = await _export_link(bot, user)
    clock.now += rights.EXPORT_TTL + timedelta(seconds=1)
    expired, expired_body = await bot.fetch("GET", fresh)
    assert expired.status == 404 and b"expired" in expired_body
    assert (await bot.fetch("POST", fresh))[0].status == 404
    forged, _ = await bot.fetch("GET", rights.EXPORT_PATH + "gAAAAA" + uuid.uuid4().hex)
    assert forged.status == 404


async def test_delete_asks_first_then_erases_and_says_what_is_kept(make_bot, org, clock):
    setup = await start_team(make_bot, org, clock, members=7)
    bot, manager, people, cycle = setup.bot, setup.manager, setup.people, setup.cycle
    for user in people[:6]:
        await answer(bot, user, cycle, mood="3", note="between me and the bot")
    await close(bot, clock, cycle)
    await wait_for_digest(bot, manager)
    leaver = people[0]
    pseudonym = bot.services.secrets.pseudonym(leaver.aad_object_id)
    async with bot.services.sessions() as session:
        counted = len((await session.exec(select(FrozenRespondent))).all())
        session.add(
            CoordinatorRequest(
                form_token=uuid.uuid4().hex,
                tenant_id=leaver.tenant_id,
                requester_aad_id=leaver.aad_object_id,
                contact_method="teams",
                contact_time="mornings",
                note="please call me",
                created_at=clock.now,
                updated_at=clock.now,
            )
        )
        await session.commit()
    await bot.say(leaver, "check in by text")  # conversation state to erase

    [reply] = await bot.say(leaver, "delete my data")
    card = reply["attachments"][0]["content"]
    text = json.dumps(card)
    assert "can't be undone" in text and "What stays, and why" in text
    assert "audit log" in text and "summaries" in text
    async with bot.services.sessions() as session:
        assert (await session.exec(select(CheckinAnswer))).all()  # nothing deleted yet

    confirm = next(a for a in card["actions"] if a["title"] == "Delete my data")
    before = len(bot.connector.sent)
    await bot.post(
        activities.card_submit(leaver, bot.connector.url, confirm["data"], reply_to_id="c-1")
    )
    update = bot.connector.sent[before]
    assert update.method == "PUT"  # the confirmation card is replaced, so it can't be pressed twice
    done = json.dumps(update.body)
    assert "I've deleted your data" in done and "What stays, and why" in done

    async with bot.services.sessions() as session:
        mine = await session.exec(select(CheckinAnswer).where(CheckinAnswer.pseudonym == pseudonym))
        assert mine.all() == []
        assert len((await session.exec(select(CheckinAnswer))).all()) == 5  # others' stay
        frozen = (await session.exec(select(FrozenRespondent))).all()
        assert len(frozen) == counted and all(r.member != pseudonym for r in frozen)
        requests = await session.exec(
            select(CoordinatorRequest).where(
                CoordinatorRequest.requester_aad_id == leaver.aad_object_id
            )
        )
        assert requests.all() == []
        states = (await session.exec(select(StateRecord))).all()
        for state in states:
            if leaver.chat_id in state.key:
                assert json.loads(state.document).get("dialog") in (None, {})
    assert (leaver.aad_object_id, "erase") in await _audit(bot)
    history = (await bot.say(leaver, "my check-ins"))[0]["text"]
    assert "haven't checked in" in history
    again = (await bot.say(manager, "team"))[0]["attachments"][0]["content"]
    assert "Who answered" in json.dumps(again)  # the frozen summary stays as it was


async def test_keeping_my_data_deletes_nothing(make_bot, clock):
    bot = await make_bot(clock=clock)
    user = TeamsUser()
    await _checked_in(bot, user, "keep this")
    [reply] = await bot.say(user, "delete my data")
    keep = next(
        a for a in reply["attachments"][0]["content"]["actions"] if a["title"] == "Keep my data"
    )
    await bot.post(activities.card_submit(user, bot.connector.url, keep["data"]))
    async with bot.services.sessions() as session:
        assert len((await session.exec(select(CheckinAnswer))).all()) == 1
    assert (user.aad_object_id, "erase") not in await _audit(bot)


async def test_deleting_by_typing_for_clients_without_cards(make_bot, clock):
    bot = await make_bot(clock=clock)
    user = TeamsUser()
    await _checked_in(bot, user, "gone soon")
    replies = await bot.say(user, "yes delete my data")
    assert "deleted your data" in json.dumps(replies)
    async with bot.services.sessions() as session:
        assert (await session.exec(select(CheckinAnswer))).all() == []
