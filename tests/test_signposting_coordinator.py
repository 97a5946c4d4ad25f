"""Confidential coordinator requests end to end: the form, the coordinator's card and its
buttons, the backup's reminder, the person's acknowledgement, status and withdrawal, and the
honest answer when no coordinator can be reached."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from core.store.audit import AuditEntry
from core.store.outbox import OutboxMessage
from core.store.supportdata import CoordinatorRequest, SignpostingCount
from scheduler import jobs
from signposting.referrals import remind_unpicked_requests
from tests.support.activities import TeamsUser
from tests.support.cards import card_text, cards_of, submits
from tests.support.clock import Clock
from tests.test_signposting_chat import press

pytestmark = pytest.mark.time_sensitive

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PRIMARY = "00000000-0000-0000-0000-0000000000c1"
BACKUP = "00000000-0000-0000-0000-0000000000c2"
MANAGER = "00000000-0000-0000-0000-0000000000d1"


async def _rows(bot) -> list[CoordinatorRequest]:
    async with bot.services.sessions() as session:
        return list((await session.exec(select(CoordinatorRequest))).all())


async def _counted(bot, event: str) -> int:
    async with bot.services.sessions() as session:
        rows = (
            await session.exec(select(SignpostingCount).where(SignpostingCount.event == event))
        ).all()
    return sum(row.count for row in rows)


async def _open_form(bot, person: TeamsUser) -> dict:
    [form] = cards_of(await press(bot, person, {"command": "ask coordinator"}))
    assert "Ask the staff support coordinator to get in touch" in card_text(form)
    return form


def _send_data(form: dict, **inputs) -> dict:
    [send] = [d for d in submits(form) if d.get("command") == "send coordinator request"]
    return {**send, "name": "Alex Wilber", "method": "teams", "time": "any", **inputs}


async def _received(bot, coordinator: TeamsUser, count: int) -> list[dict]:
    """Wait for `count` cards in a coordinator's personal chat after their welcome."""
    for _ in range(50):
        cards = cards_of(bot.connector.activities(coordinator.chat_id)[1:])
        if len(cards) >= count:
            return cards
        await bot.connector.wait_for(len(bot.connector.sent) + 1, timeout=5)
    raise AssertionError("the coordinator's card never arrived")


async def test_a_coordinator_request_end_to_end(make_bot):
    clock = Clock()
    bot = await make_bot(clock=clock)
    coordinator = TeamsUser(aad_object_id=PRIMARY, name="Casey Coordinator")
    manager = TeamsUser(aad_object_id=MANAGER, name="Morgan Manager")
    person = TeamsUser(name="Alex Wilber")
    for user in (coordinator, manager, person):
        await bot.install(user)

    form = await _open_form(bot, person)
    text = card_text(form)
    assert "Your manager is never told" in text and "within two working days" in text
    [name_input] = [i for i in form["body"] if i.get("id") == "name"]
    assert name_input["value"] == "Alex Wilber", "the name Teams gave us is filled in"

    # A form that can't be sent says why, and stores nothing.
    again = await press(bot, person, _send_data(form, method="phone", detail=""))
    assert "phone number the coordinator can call" in card_text(cards_of(again)[0])
    assert await _rows(bot) == []

    data = _send_data(form, method="phone", detail="01632 960 111", time="morning", note="rota")
    ack = await press(bot, person, data)
    ack_text = card_text(cards_of(ack)[0])
    assert "gone to the staff support coordinator" in ack_text
    assert "within two working days, by a phone call" in ack_text
    assert "Your manager is" in ack_text and "not told" in ack_text
    await press(bot, person, data)  # a double click is still one request
    [row] = await _rows(bot)
    assert row.status == "open" and "rota" not in row.note  # encrypted at rest
    secrets = bot.services.secrets
    assert secrets.decrypt(row.note) == "rota"
    assert secrets.decrypt(row.contact_detail) == "01632 960 111"

    [card] = await _received(bot, coordinator, 1)
    text = card_text(card)
    assert f"Request #{row.id}" in text and "Alex Wilber" in text and "01632 960 111" in text
    async with bot.services.sessions() as session:
        [queued] = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.purpose == "coordinator"))
        ).all()
    assert queued.payload.startswith("sealed:"), "the queued card is encrypted too"
    assert "01632" not in queued.payload and "Alex" not in queued.payload
    assert "rota" in text and "In the morning" in text
    assert [d["command"] for d in submits(card)] == ["coordinator contacted", "coordinator closed"]

    # The manager is never told, and can't act on it either.
    assert bot.connector.activities(manager.chat_id)[1:] == [], "the manager is told nothing"
    refused = await press(bot, manager, {"command": "coordinator contacted", "request_id": row.id})
    assert [a.get("text") for a in refused] == [
        "That button is for the staff support coordinators."
    ]
    assert (await _rows(bot))[0].status == "open"
    assert "Waiting for the coordinator" in card_text(
        cards_of(await bot.say(person, "my requests"))
    )

    clock.now = T0 + timedelta(hours=2)
    contacted = await press(
        bot, coordinator, {"command": "coordinator contacted", "request_id": row.id}
    )
    replaced = next(
        s
        for s in bot.connector.sent
        if s.method == "PUT" and s.conversation_id == coordinator.chat_id
    )
    assert "Contacted (" in card_text(replaced.body["attachments"][0]["content"])
    assert [d["command"] for d in submits(replaced.body)] == ["coordinator closed"]
    assert "Marked as contacted" in contacted[-1]["text"]
    status = card_text(cards_of(await bot.say(person, "my requests"))[0])
    assert "The coordinator has been in touch" in status

    await press(bot, coordinator, {"command": "coordinator closed", "request_id": row.id})
    [row] = await _rows(bot)
    assert row.status == "closed" and row.handled_by == PRIMARY
    assert "Closed" in card_text(cards_of(await bot.say(person, "my requests"))[0])
    for event in ("coordinator_requested", "coordinator_contacted", "coordinator_closed"):
        assert await _counted(bot, event) == 1, event
    async with bot.services.sessions() as session:
        audited = (await session.exec(select(AuditEntry))).all()
    assert [(e.actor, e.action, e.subject) for e in audited] == [
        (PRIMARY, "coordinator_access", person.aad_object_id)
    ] * 2, "each time a coordinator acts on a request, against the person it concerns"


async def test_the_backup_is_told_when_nobody_picks_a_request_up(make_bot):
    clock = Clock()
    bot = await make_bot(clock=clock)
    primary = TeamsUser(aad_object_id=PRIMARY)
    backup = TeamsUser(aad_object_id=BACKUP)
    person = TeamsUser()
    for user in (primary, backup, person):
        await bot.install(user)
    form = await _open_form(bot, person)
    await press(bot, person, _send_data(form))
    await _received(bot, primary, 1)
    assert bot.connector.activities(backup.chat_id)[1:] == [], "the backup has only a welcome"

    clock.now = T0 + timedelta(hours=23)
    assert await remind_unpicked_requests(bot.services, clock.now) == 0
    clock.now = T0 + timedelta(hours=24, minutes=1)
    # Through the scheduler, as it runs in production: the job registered by id, on the leader.
    scheduler = jobs.build_scheduler(bot.services, tick_seconds=60, holder="replica-1")
    job = scheduler.get_job(jobs.COORDINATOR_REMINDER_JOB_ID)
    assert job.trigger.interval == timedelta(seconds=jobs.COORDINATOR_REMINDER_EVERY_SECONDS)
    await job.func(*job.args)
    [card] = await _received(bot, backup, 1)
    reminder = card_text(card)
    assert "Not picked up yet" in reminder and "more than 24 hours" in reminder
    assert await remind_unpicked_requests(bot.services, clock.now + timedelta(hours=5)) == 0

    # The backup can pick it up; a picked-up request is never reminded about.
    [row] = await _rows(bot)
    await press(bot, backup, {"command": "coordinator contacted", "request_id": row.id})
    assert (await _rows(bot))[0].handled_by == BACKUP
    assert await _counted(bot, "coordinator_reminded") == 1


async def test_a_person_can_withdraw_and_the_coordinator_is_told(make_bot):
    bot = await make_bot(clock=Clock())
    coordinator = TeamsUser(aad_object_id=PRIMARY)
    person, stranger = TeamsUser(), TeamsUser()
    for user in (coordinator, person, stranger):
        await bot.install(user)
    form = await _open_form(bot, person)
    ack = cards_of(await press(bot, person, _send_data(form)))[0]
    [withdraw] = [d for d in submits(ack) if d["command"] == "withdraw request"]
    await _received(bot, coordinator, 1)

    other = await press(bot, stranger, withdraw)
    assert other[-1]["text"] == "I can't find that request."
    assert (await _rows(bot))[0].status == "open"

    done = await press(bot, person, withdraw)
    assert "withdrawn" in done[-1]["text"]
    for _ in range(50):
        told = bot.connector.texts(coordinator.chat_id)
        if any("has been withdrawn" in t for t in told):
            break
        await bot.connector.wait_for(len(bot.connector.sent) + 1)
    assert any("Please don't contact them" in t for t in bot.connector.texts(coordinator.chat_id))
    assert "Withdrawn by you" in card_text(cards_of(await bot.say(person, "my requests"))[0])
    late = await press(
        bot, coordinator, {"command": "coordinator contacted", "request_id": withdraw["request_id"]}
    )
    assert "withdrew this request" in late[-1]["text"]


async def test_no_coordinator_reachable_is_said_honestly_with_other_services(bot):
    person = TeamsUser()
    await bot.install(person)  # the configured coordinators never installed the bot
    sent = await press(bot, person, {"command": "ask coordinator"})
    assert "can't reach the staff support coordinator" in sent[0]["text"]
    services = card_text(cards_of(sent)[0])
    assert "0113 496 0321" in services, "the coordinator's own number, to call directly"
    assert "Staff Support Line" in services
    assert await _rows(bot) == []


async def test_a_form_sent_after_the_coordinator_became_unreachable_stores_nothing(bot):
    person = TeamsUser()
    sent = await press(
        bot,
        person,
        {"command": "send coordinator request", "token": "t0k3n", "name": "A", "method": "teams"},
    )
    assert "can't reach the staff support coordinator" in sent[0]["text"]
    assert await _rows(bot) == []
    assert await _counted(bot, "coordinator_unreachable") == 1


async def test_without_coordinators_the_bot_does_not_offer_one(make_bot, org):
    roles = org.roles.model_copy(
        update={
            "coordinators": org.roles.coordinators.model_copy(update={"primary": [], "backup": []})
        }
    )
    bot = await make_bot(org_config=org.model_copy(update={"roles": roles}))
    person = TeamsUser()
    [card] = cards_of(
        await press(bot, person, {"command": "support need", "need": "talk_confidentially"})
    )
    assert {"command": "ask coordinator"} not in submits(card)
    [crisis] = cards_of(await bot.say(person, "i want to die"))
    assert {"command": "ask coordinator"} not in submits(crisis)


def test_only_the_referrals_module_reads_coordinator_requests():
    """Structural: no other code (a manager's digest, a report) can query requests. A new
    reader has to be added here on purpose, with its reason."""
    allowed = {
        Path("signposting/referrals.py"): "the one module for requests",
        Path("core/store/supportdata.py"): "the table itself",
        Path("core/privacy/persondata.py"): "a person's export and erasure of their own requests",
        Path("core/privacy/retention.py"): "re-encrypting stored requests when keys rotate",
    }
    offenders = []
    for path in ROOT.glob("**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {"tests", ".venv", "node_modules"} or relative in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        strings = {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        if "CoordinatorRequest" in names | imported or "coordinator_request" in strings:
            offenders.append(str(relative))
    assert offenders == ["core/migrations/versions/0003_signposting_requests_and_counts.py"]
