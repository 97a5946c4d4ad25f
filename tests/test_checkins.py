"""Wellbeing Wednesday end to end: cycles open on time in each person's zone, survive restarts
without loss or duplicates, honour pause and stop, can be held and released, and answers are
validated and stored once whichever way the card is submitted."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import SENDER
from core.config.orgconfig import TeamConfig
from core.reporting import leadreport
from core.store.cycles import Cycle, cycle_counts
from core.store.models import Participation
from core.store.outbox import OutboxMessage
from core.store.wellbeing import CheckinAnswer
from dialogs.support import CRISIS_WORDING
from scheduler import checkins
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.clock import Clock
from tests.support.fake_connector import Fault

pytestmark = pytest.mark.time_sensitive

TUESDAY_OPEN = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Wednesday has begun in UTC+14
WEDNESDAY_10 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(TUESDAY_OPEN)


@pytest.fixture
async def app(make_bot, clock):
    return await make_bot(clock=clock)


async def _flush(bot, expected: int) -> None:
    """Let the running sender deliver what is due now; wait until `expected` arrived and every
    send has been recorded (the connector answers before the outbox row is updated)."""
    bot.server.app[SENDER].wake()
    await bot.connector.wait_for(expected)
    for _ in range(400):
        if not any(row.status == "sending" for row in await _outbox(bot, purpose=None)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("sends were not recorded")


async def _outbox(bot, purpose: str | None = "checkin") -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if purpose:
        query = query.where(OutboxMessage.purpose == purpose)
    async with bot.services.sessions() as session:
        return list((await session.exec(query)).all())


def _checkin_cards(bot, user: TeamsUser) -> list[dict]:
    return [
        c
        for c in bot.connector.cards(user.chat_id)
        if c["actions"][0].get("verb") == "checkin.submit"
    ]


async def test_each_person_gets_it_at_ten_in_their_own_zone(app, clock):
    london, new_york = TeamsUser(time_zone="Europe/London"), TeamsUser(time_zone="America/New_York")
    for user in (london, new_york):
        await app.install(user)
    welcomes = len(app.connector.sent)

    await checkins.tick(app.services, clock.now)
    due = {row.aad_object_id: row.next_attempt_at for row in await _outbox(app)}
    assert due == {
        london.aad_object_id: WEDNESDAY_10,
        new_york.aad_object_id: WEDNESDAY_10 + timedelta(hours=5),
    }

    clock.now = WEDNESDAY_10
    await _flush(app, welcomes + 1)
    assert len(_checkin_cards(app, london)) == 1 and _checkin_cards(app, new_york) == []

    clock.now = WEDNESDAY_10 + timedelta(hours=5)
    await _flush(app, welcomes + 2)
    card = _checkin_cards(app, new_york)[0]
    assert card["body"][0]["text"] == "Wellbeing Wednesday"
    inputs = {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}
    assert {"mood", "affecting", "note"} <= set(inputs) and all(e["label"] for e in inputs.values())
    assert [c["value"] for c in inputs["mood"]["choices"]] == ["1", "2", "3", "4", "5"]


async def test_the_weekly_note_comes_with_the_checkin(app, clock):
    user = TeamsUser()
    await app.install(user)
    await checkins.tick(app.services, clock.now)
    clock.now = WEDNESDAY_10
    await _flush(app, 2)
    card = _checkin_cards(app, user)[0]
    note = app.services.org.checkin.note_for(48)
    assert note is not None
    assert any(note.title in str(block) for block in card["body"])


async def test_a_restart_at_the_scheduled_minute_still_delivers_once(make_bot, clock):
    first = await make_bot(clock=clock)
    user = TeamsUser()
    await first.install(user)
    clock.now = WEDNESDAY_10 + timedelta(seconds=30)  # the process was down when the cycle began
    await first.server.close()

    restarted = await make_bot(clock=clock)
    await checkins.tick(restarted.services, clock.now)
    await checkins.tick(restarted.services, clock.now)  # a second tick, or a second replica
    await _flush(restarted, 2)
    assert len(_checkin_cards(restarted, user)) == 1
    async with restarted.services.sessions() as session:
        assert len((await session.exec(select(Cycle))).all()) == 1


async def test_nothing_lost_or_duplicated_when_the_process_dies_before_sending(make_bot, clock):
    first = await make_bot(clock=clock)
    users = [TeamsUser() for _ in range(4)]
    for user in users:
        await first.install(user)
    await checkins.tick(first.services, clock.now)  # queued for 10:00, then the process dies
    await first.server.close()

    clock.now = WEDNESDAY_10
    restarted = await make_bot(clock=clock)
    report = await checkins.open_cycle(
        restarted.services, WEDNESDAY_10.date(), clock.now, immediate=True
    )
    assert report.queued == 0 and report.already_had_it == 4  # `checkins send` again: nothing new
    await _flush(restarted, 8)
    assert all(len(_checkin_cards(restarted, u)) == 1 for u in users)


async def test_pause_and_stop_are_honoured_by_the_next_cycle(app, clock):
    paused, stopped, active = TeamsUser(), TeamsUser(), TeamsUser()
    for user in (paused, stopped, active):
        await app.install(user)
    await app.say(paused, "pause 1 week")
    await app.say(stopped, "stop")
    report = await checkins.open_cycle(app.services, WEDNESDAY_10.date(), clock.now)
    assert report.queued == 1 and report.skipped_paused_or_stopped == 2
    assert [r.aad_object_id for r in await _outbox(app)] == [active.aad_object_id]

    clock.now += timedelta(weeks=1)  # the pause has ended; stop has not
    report = await checkins.open_cycle(
        app.services, (WEDNESDAY_10 + timedelta(weeks=1)).date(), clock.now
    )
    assert report.queued == 2 and report.skipped_paused_or_stopped == 1


async def test_uninstalling_counts_as_stop(app, clock):
    user = TeamsUser()
    await app.install(user)
    await app.post(activities.personal_install(user, app.connector.url, action="remove"))
    report = await checkins.open_cycle(app.services, WEDNESDAY_10.date(), clock.now)
    assert report.queued == 0
    async with app.services.sessions() as session:
        assert (await session.get(Participation, user.aad_object_id)).status == "stopped"


async def test_a_cycle_held_mid_send_and_released(app, clock):
    users = [TeamsUser() for _ in range(3)]
    for user in users:
        await app.install(user)
    welcomes = len(app.connector.sent)
    await checkins.tick(app.services, clock.now)
    clock.now = WEDNESDAY_10
    app.connector.fail_next(Fault(status=503, times=1))  # one fails and waits to be retried
    await _flush(app, welcomes + 2)
    held = await checkins.hold(app.services, None, clock.now)
    assert held == 1
    clock.now += timedelta(minutes=10)
    app.server.app[SENDER].wake()
    _, counts = await checkins.delivery_counts(app.services, None, clock.now)
    assert counts["sent"] == 2 and counts["held"] == 1
    assert await checkins.release(app.services, None, clock.now) == 1
    await _flush(app, welcomes + 3)
    assert all(len(_checkin_cards(app, u)) == 1 for u in users)


async def test_an_aborted_cycle_sends_nothing_more(app, clock):
    user = TeamsUser()
    await app.install(user)
    await checkins.tick(app.services, clock.now)
    assert await checkins.abort(app.services, None, clock.now) == 1
    with pytest.raises(checkins.CycleError, match="aborted"):
        await checkins.open_cycle(app.services, WEDNESDAY_10.date(), clock.now, immediate=True)
    assert [r.status for r in await _outbox(app)] == ["aborted"]


async def test_one_gentle_reminder_only_to_people_who_have_not_answered(app, clock):
    answered, quiet = TeamsUser(), TeamsUser()
    for user in (answered, quiet):
        await app.install(user)
    await checkins.tick(app.services, clock.now)
    clock.now = WEDNESDAY_10
    await _flush(app, 4)
    card = _checkin_cards(app, answered)[0]
    await app.post(
        activities.card_execute(
            answered,
            app.connector.url,
            "checkin.submit",
            {**card["actions"][0]["data"], "mood": "4"},
        )
    )
    clock.now = WEDNESDAY_10 + timedelta(hours=24)
    await checkins.tick(app.services, clock.now)
    await checkins.tick(app.services, clock.now)
    await _flush(app, 5)  # two welcomes, two check-ins (the answer was its own response), a nudge
    assert len(_checkin_cards(app, quiet)) == 2 and len(_checkin_cards(app, answered)) == 1
    reminder = _checkin_cards(app, quiet)[1]
    assert "gentle nudge" in reminder["body"][1]["text"]


async def _answer_card(app, user):
    replies = await app.say(user, "check in")
    return replies[0]["attachments"][0]["content"]["actions"][0]["data"]


async def _stored(app) -> list[CheckinAnswer]:
    async with app.services.sessions() as session:
        return list((await session.exec(select(CheckinAnswer))).all())


async def test_action_execute_answer_is_stored_once_and_the_card_replaced(app, clock):
    user = TeamsUser()
    data = await _answer_card(app, user)
    value = {**data, "mood": "2", "affecting": "work", "note": "a long week on nights"}
    response = await app.post(
        activities.card_execute(user, app.connector.url, "checkin.submit", value)
    )
    assert response.status == 200
    body = await response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Thank you for checking in" in body["value"]["body"][0]["text"]
    again = await app.post(
        activities.card_execute(user, app.connector.url, "checkin.submit", value)
    )
    assert "already answered" in (await again.json())["value"]["body"][0]["text"]

    [row] = await _stored(app)
    assert row.mood == 2 and row.affecting == "work" and row.cycle_id is None
    assert row.pseudonym != user.aad_object_id and user.aad_object_id not in row.pseudonym
    assert row.note and "nights" not in row.note  # encrypted at rest
    assert app.services.secrets.decrypt(row.note) == "a long week on nights"


async def test_action_submit_answer_updates_the_card_in_place(app):
    user = TeamsUser()
    data = await _answer_card(app, user)
    before = len(app.connector.sent)
    await app.post(
        activities.card_submit(user, app.connector.url, {**data, "mood": "5"}, reply_to_id="card-1")
    )
    update = app.connector.sent[before]
    assert update.method == "PUT" and update.path.endswith("/activities/card-1")
    assert "Thank you" in update.body["attachments"][0]["content"]["body"][0]["text"]
    assert len(await _stored(app)) == 1


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, "choose how you're feeling"),
        ({"mood": "9"}, "isn't one of the choices"),
        ({"mood": "3", "affecting": "aliens"}, "isn't one of the choices"),
        ({"mood": "3", "note": "x" * 2001}, "under 2000 characters"),
    ],
)
async def test_an_invalid_answer_says_what_is_wrong_and_stores_nothing(app, value, problem):
    user = TeamsUser()
    data = await _answer_card(app, user)
    response = await app.post(
        activities.card_execute(user, app.connector.url, "checkin.submit", {**data, **value})
    )
    card = (await response.json())["value"]
    assert any(problem in block.get("text", "") for block in card["body"])
    assert await _stored(app) == []


async def test_an_answer_after_the_cycle_closed_is_kept_as_an_extra_checkin(app, clock):
    user = TeamsUser()
    await app.install(user)
    await checkins.tick(app.services, clock.now)
    clock.now = WEDNESDAY_10
    await _flush(app, 2)
    data = _checkin_cards(app, user)[0]["actions"][0]["data"]
    clock.now = WEDNESDAY_10 + timedelta(days=7)
    await checkins.tick(app.services, clock.now)
    response = await app.post(
        activities.card_execute(user, app.connector.url, "checkin.submit", {**data, "mood": "3"})
    )
    assert "already closed" in (await response.json())["value"]["body"][0]["text"]
    [row] = await _stored(app)
    assert row.cycle_id is None


async def test_checking_in_by_text(app):
    user = TeamsUser()
    assert "Reply with a number" in (await app.say(user, "check in by text"))[0]["text"]
    assert "number from 1 to 5" in (await app.say(user, "seven"))[0]["text"]
    await app.say(user, "2")
    await app.say(user, "1")
    replies = await app.say(user, "skip")
    assert "Thank you" in replies[0]["text"]
    [row] = await _stored(app)
    assert row.mood == 2 and row.affecting == "work" and row.note is None


async def test_my_checkins_shows_only_my_own_history(app):
    me, someone_else = TeamsUser(), TeamsUser()
    for user, mood in ((me, "2"), (someone_else, "5")):
        data = await _answer_card(app, user)
        await app.post(
            activities.card_execute(
                user, app.connector.url, "checkin.submit", {**data, "mood": mood}
            )
        )
    text = (await app.say(me, "my check-ins"))[0]["text"]
    assert "Low" in text and "Great" not in text and "only you can see" in text


async def test_enrolled_team_members_are_read_from_teams_and_told_why(make_bot, org, clock):
    team = activities.TeamsTeam()
    enrolled = org.model_copy(
        update={"teams": [TeamConfig(id=team.aad_group_id, name=team.name, enrolled=True)]}
    )
    app = await make_bot(clock=clock, org_config=enrolled)
    installer, joiner, other = TeamsUser(), TeamsUser(name="Megan"), TeamsUser(name="Lee")
    await app.post(activities.team_install(installer, team, app.connector.url))
    app.connector.rosters[team.thread_id] = [
        {
            "id": u.teams_id,
            "aadObjectId": u.aad_object_id,
            "userPrincipalName": f"{u.name}@example.org",
        }
        for u in (installer, joiner, other)
    ]  # three members, served two to a page
    report = await checkins.open_cycle(app.services, WEDNESDAY_10.date(), clock.now, immediate=True)
    assert report.queued == 3
    await _flush(app, 3 * 2)  # each: create the chat, then the check-in
    created = [s for s in app.connector.sent if s.path == "/v3/conversations"]
    assert len(created) == 3
    cards = app.connector.cards()
    assert all("You're getting this because" in c["body"][1]["text"] for c in cards)
    assert "stop" in cards[0]["body"][1]["text"]


async def test_installing_the_bot_in_a_team_does_not_enrol_it(app, clock):
    team = activities.TeamsTeam()
    installer = TeamsUser()
    await app.post(activities.team_install(installer, team, app.connector.url))
    app.connector.rosters[team.thread_id] = [
        {"id": installer.teams_id, "aadObjectId": installer.aad_object_id}
    ]
    report = await checkins.open_cycle(app.services, WEDNESDAY_10.date(), clock.now, immediate=True)
    assert report.queued == 0


async def test_an_admin_enrols_a_team_from_its_channel_and_others_cannot(app, clock, org):
    team = activities.TeamsTeam()
    admin = TeamsUser(aad_object_id=org.roles.admins[0])
    someone = TeamsUser()
    await app.post(activities.team_install(admin, team, app.connector.url))
    app.connector.rosters[team.thread_id] = [
        {"id": someone.teams_id, "aadObjectId": someone.aad_object_id}
    ]

    await app.post(activities.channel_message(someone, team, app.connector.url, "enrol this team"))
    assert "Only the bot's admins" in app.connector.texts()[-1]
    assert (
        await checkins.open_cycle(app.services, WEDNESDAY_10.date(), clock.now, immediate=True)
    ).queued == 0

    await app.post(activities.channel_message(admin, team, app.connector.url, "enrol this team"))
    assert "everyone in this team will get" in app.connector.texts()[-1]
    assert (
        await checkins.open_cycle(app.services, WEDNESDAY_10.date(), clock.now, immediate=True)
    ).queued == 1


async def test_answers_that_suggest_support_get_the_right_services_in_the_same_card(app):
    user = TeamsUser()
    data = await _answer_card(app, user)
    before = len(app.connector.sent)
    response = await app.post(
        activities.card_execute(
            user, app.connector.url, "checkin.submit", {**data, "mood": "1", "affecting": "work"}
        )
    )
    # Everything is in the invoke's own response: no message of its own against Teams' limit.
    assert len(app.connector.sent) == before
    card = (await response.json())["value"]
    texts = [block.get("text", "") for block in card["body"]]
    assert texts[0] == "Thank you for checking in."
    assert any("sorry things are hard" in t for t in texts)
    offered = str(card)
    kinds = {s.kind for s in app.services.org.support.services if s.name in offered}
    assert kinds and kinds <= {
        "staff_support_coordinator",
        "eap",
        "occupational_health",
        "chaplaincy",
    }
    assert [b["title"] for b in card["actions"]] == [
        "See all support",
        "Urgent help",
        "My check-ins",
    ]


async def test_an_answer_by_action_submit_costs_one_update_and_no_more(app):
    user = TeamsUser()
    data = await _answer_card(app, user)
    before = len(app.connector.sent)
    await app.post(
        activities.card_submit(user, app.connector.url, {**data, "mood": "4"}, reply_to_id="c-1")
    )
    [update] = app.connector.sent[before:]
    assert update.method == "PUT"
    body = update.body["attachments"][0]["content"]["body"]
    assert [b["text"] for b in body][::2] == [
        "Thank you for checking in.",
        "Good to hear. Support is here if you ever need it.",
    ]


async def test_crisis_words_in_the_note_bring_urgent_help_first_and_the_note_is_kept(app):
    user = TeamsUser()
    data = await _answer_card(app, user)
    before = len(app.connector.sent)
    note = "honestly i dont want to be here anymore"
    response = await app.post(
        activities.card_execute(
            user, app.connector.url, "checkin.submit", {**data, "mood": "1", "note": note}
        )
    )
    assert "Thank you" in (await response.json())["value"]["body"][0]["text"]
    first = app.connector.sent[before].body["attachments"][0]["content"]
    assert first["body"][0]["text"] in {wording[0] for wording in CRISIS_WORDING.values()}
    assert "tel:116123" in str(first) and "nobody will see this" in str(first)
    [row] = await _stored(app)
    assert app.services.secrets.decrypt(row.note) == note


async def _refused(app, user: TeamsUser, value: dict) -> None:
    """Post an answer on a card that is not this person's; the reply says so, nothing breaks."""
    before = len(app.connector.sent)
    response = await app.post(activities.card_submit(user, app.connector.url, value))
    assert response.status == 200
    texts = [s.body.get("text", "") for s in app.connector.sent[before:]]
    assert any("isn't yours" in t and "check in" in t for t in texts), texts


async def test_only_a_card_the_bot_issued_to_that_person_counts(app, clock):
    recipient, outsider = TeamsUser(), TeamsUser()
    await app.install(recipient)
    await checkins.tick(app.services, clock.now)
    clock.now = WEDNESDAY_10
    await _flush(app, 2)
    issued = _checkin_cards(app, recipient)[0]["actions"][0]["data"]
    cycle_id = issued["cycle_id"]

    # Someone never sent the cycle: an invented card, then the recipient's own card.
    invented = {"command": "checkin submit", "cycle_id": cycle_id, "card_id": "any", "mood": "3"}
    await _refused(app, outsider, invented)
    await _refused(app, outsider, {**issued, "mood": "3"})
    assert await _stored(app) == []

    await app.post(activities.card_submit(recipient, app.connector.url, {**issued, "mood": "4"}))
    # Replacing the answer with an invented card, or a tampered one, is refused.
    await _refused(app, recipient, {**issued, "card_id": uuid.uuid4().hex, "mood": "1"})
    nonce, _, mac = issued["card_id"].rpartition("-")
    tampered = f"{nonce[::-1]}-{mac}"
    await _refused(app, recipient, {**issued, "card_id": tampered, "mood": "1"})
    # An on-demand card cannot be passed off as the cycle's.
    on_demand = await _answer_card(app, recipient)
    assert on_demand["cycle_id"] is None
    await _refused(app, recipient, {**on_demand, "cycle_id": cycle_id, "mood": "1"})
    # Nor the cycle's card as another cycle's.
    await _refused(app, recipient, {**issued, "cycle_id": cycle_id + 1, "mood": "1"})

    [row] = await _stored(app)
    assert (row.cycle_id, row.mood) == (cycle_id, 4)
    async with app.services.sessions() as session:
        assert (await cycle_counts(session, cycle_id))["answered"] == 1


async def test_an_on_demand_card_counts_once_and_only_for_its_person(app):
    me, someone_else = TeamsUser(), TeamsUser()
    data = await _answer_card(app, me)
    await _refused(app, me, {**data, "card_id": "any", "mood": "2"})
    await _refused(app, someone_else, {**data, "mood": "2"})
    response = await app.post(
        activities.card_execute(me, app.connector.url, "checkin.submit", {**data, "mood": "2"})
    )
    assert "Thank you for checking in" in str(await response.json())
    again = await app.post(
        activities.card_execute(me, app.connector.url, "checkin.submit", {**data, "mood": "5"})
    )
    assert "already answered" in str(await again.json())
    [row] = await _stored(app)
    assert row.mood == 2 and row.cycle_id is None


async def test_check_in_gives_the_open_cycle_card_to_a_recipient_who_has_not_answered(app, clock):
    user = TeamsUser()
    await app.install(user)
    await checkins.tick(app.services, clock.now)  # queued for Wednesday 10:00, not yet sent
    data = await _answer_card(app, user)
    assert data["cycle_id"] is not None
    await app.post(
        activities.card_execute(user, app.connector.url, "checkin.submit", {**data, "mood": "3"})
    )
    [row] = await _stored(app)
    assert row.cycle_id == data["cycle_id"]
    async with app.services.sessions() as session:
        assert (await cycle_counts(session, row.cycle_id))["answered"] == 1
    assert (await _answer_card(app, user))["cycle_id"] is None  # answered: an extra check-in


async def test_blocks_are_counted_per_cycle_for_the_wellbeing_lead(app, clock):
    users = [TeamsUser() for _ in range(7)]
    for user in users:
        await app.install(user)
    welcomes = len(app.connector.sent)
    await checkins.tick(app.services, clock.now)
    clock.now = WEDNESDAY_10
    app.connector.fail_next(Fault(status=403, code="ConversationBlockedByUser", times=6))
    await _flush(app, welcomes + 1)
    cycle, counts = await checkins.delivery_counts(app.services, None, clock.now)
    assert counts["blocked"] == 6 and counts["unreachable"] == 6 and counts["sent"] == 1

    clock.now = cycle.closes_at + timedelta(minutes=1)
    await checkins.tick(app.services, clock.now)
    async with app.services.sessions() as session:
        assert await leadreport.snapshot_closed_cycles(session, clock.now) == 1
        await session.commit()
        report = await leadreport.build(
            session, app.services.org, cycle.scheduled_for, cycle.scheduled_for, clock.now
        )
    table = report.table("checkins_by_week")
    assert table.columns[-1] == "Blocked the bot"
    [row] = table.rows
    assert row[-1] == 6  # a number, no names
