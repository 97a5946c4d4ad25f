"""Crisis comes first, through the real endpoint: urgent help before anything else, in private,
counted but never stored or logged."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel, select

import core.tables  # noqa: F401  (every table, so the scan below sees them all)
from core.supportdata import SignpostingCount
from dialogs import support
from dialogs.router import default_router
from signposting.crisis import detect
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser
from tests.support.cards import card_text, cards_of, submits

URGENT_NUMBERS = ("999", "111", "116 123", "85258")


def assert_urgent_help_first(sent):
    """The first thing sent is the urgent-help card: the numbers, the chat not being watched,
    and only after them the offer of the coordinator."""
    crisis = cards_of(sent)[0]
    text = card_text(crisis)
    assert text.startswith("If you need help now")
    assert "not watched by a person" in text
    for number in URGENT_NUMBERS:
        assert number in text
    assert text.index("116 123") < text.index("staff support coordinator")
    assert submits(crisis)[0] == {"command": "ask coordinator"}


def test_crisis_is_the_first_stage_everywhere():
    router = default_router()
    assert router.personal[0] is support.crisis_stage
    assert router.shared[0] is support.crisis_stage


async def test_a_crisis_message_gets_urgent_help_first(bot):
    user = TeamsUser()
    await bot.install(user)
    sent = await bot.say(user, "i cant go on anymore")
    assert len(sent) == 1
    assert_urgent_help_first(sent)


@pytest.mark.parametrize("said", ["pause i want to end it all", "help, I want to kill myself"])
async def test_crisis_wins_over_commands(bot, said):
    user = TeamsUser()
    sent = await bot.say(user, said)
    assert_urgent_help_first(sent)


async def test_crisis_interrupts_an_unfinished_check_in_and_it_carries_on(bot):
    user = TeamsUser()
    await bot.install(user)
    first_question = (await bot.say(user, "check in by text"))[-1]
    assert first_question  # the text check-in asked its first question
    assert_urgent_help_first(await bot.say(user, "honestly I just want to die"))
    after = await bot.say(user, "2")
    prompt = bot.services.org.checkin.questions.affecting.prompt
    assert any(prompt in (a.get("text") or "") + card_text(a) for a in after), (
        "the check-in went on to its next question"
    )


@pytest.mark.parametrize(
    "said",
    [
        "this rota is killing me",
        "my feet are killing me after a 12 hour shift",
        "is there suicide prevention training for managers?",
        "I can't go on the course next week",
    ],
)
async def test_idiom_and_policy_talk_do_not_get_the_crisis_card(bot, said):
    user = TeamsUser()
    sent = await bot.say(user, said)
    assert not any("If you need help now" in card_text(c) for c in cards_of(sent))


async def test_wording_only_the_model_knows_gets_urgent_help_then_the_matching_services(bot):
    """No phrase names this; the learned model raises it. The urgent help comes first, and the
    services for what it was about follow, in case the model misread it."""
    said = "my ex keeps turning up in the hospital car park waiting for me"
    assert detect(said, use_model=False) is None
    user = TeamsUser()
    await bot.install(user)
    sent = await bot.say(user, said)
    assert_urgent_help_first(sent)
    services = [card_text(card) for card in cards_of(sent)[1:]]
    assert len(services) == 1 and "Relationships and home life" in services[0]
    async with bot.services.sessions() as session:
        counted = {c.event for c in (await session.exec(select(SignpostingCount))).all()}
    assert {"crisis_shown", "need_recognised"} <= counted


async def test_a_phrase_crisis_is_urgent_help_alone(bot):
    user = TeamsUser()
    await bot.install(user)
    sent = await bot.say(user, "my husband hits me and i cant cope with the bills")
    assert_urgent_help_first(sent)
    assert len(cards_of(sent)) == 1


async def test_a_crisis_message_is_counted_but_never_stored_or_logged(bot, caplog):
    caplog.set_level(logging.DEBUG)
    user = TeamsUser()
    await bot.install(user)
    marker = "zq7xw"
    assert_urgent_help_first(await bot.say(user, f"i want to end it all {marker}"))

    async with bot.services.sessions() as session:
        counted = (await session.exec(select(SignpostingCount))).all()
        assert [(c.event, c.count) for c in counted] == [("crisis_shown", 1)]
        for table in SQLModel.metadata.sorted_tables:
            rows = (await session.exec(text(f'SELECT * FROM "{table.name}"'))).all()
            assert marker not in repr(rows), f"the message was stored in {table.name}"
    assert marker not in caplog.text


async def test_a_crisis_message_in_a_channel_is_answered_in_personal_chat(bot):
    user, team = TeamsUser(), TeamsTeam()
    activity = activities.channel_message(
        user, team, bot.connector.url, "honestly i dont want to be here anymore"
    )
    assert (await bot.post(activity)).status == 200
    channel = activity["conversation"]["id"].split(";")[0]
    await bot.connector.wait_for(2)
    in_channel = [s.body for s in bot.connector.sent if s.conversation_id.split(";")[0] == channel]
    assert [a.get("text") for a in in_channel] == ["I've sent you a private message."]
    assert not cards_of(in_channel), "no urgent help card in the channel"
    private = [
        s.body
        for s in bot.connector.sent
        if s.conversation_id.split(";")[0] != channel and s.body.get("type") == "message"
    ]
    assert_urgent_help_first(private)
    created = [s for s in bot.connector.sent if s.path == "/v3/conversations"]
    assert created and created[0].body["members"][0]["id"] == user.teams_id


async def test_a_crisis_message_in_a_group_chat_is_answered_in_personal_chat(bot):
    user = TeamsUser()
    await bot.install(user)
    chat = "19:groupchat-" + user.aad_object_id + "@thread.v2"
    await bot.post(activities.group_chat_message(user, bot.connector.url, chat, "he hits me"))
    await bot.connector.wait_for(3)
    assert [s.body.get("text") for s in bot.connector.sent if s.conversation_id == chat] == [
        "I've sent you a private message."
    ]
    assert_urgent_help_first(bot.connector.activities(user.chat_id)[1:])


async def test_urgent_help_can_be_asked_for(bot):
    user = TeamsUser()
    assert_urgent_help_first(await bot.say(user, "urgent help"))
