"""Understanding people as they write (issue 19), through the real endpoint: commands however
they are typed, requests to be left alone, small talk, policy questions without `faq`, "did you
mean", and a fallback that is never a dead end. Nothing that changes anything is done on a
guess: only the command table's own words act, and a guess asks first."""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Participation
from dialogs import understanding as understanding_step
from dialogs.router import default_commands
from dialogs.support import CRISIS_WORDING
from dialogs.understanding import CONFIRM, NOTHING, SURE, UNSURE, Understanding, weeks_in
from tests.support import activities
from tests.support.activities import TeamsUser
from tests.support.cards import buttons, card_text, cards_of, submits


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or card_text(r["attachments"][0]["content"]) for r in replies)


async def status(bot, user: TeamsUser) -> Participation | None:
    async with bot.services.sessions() as session:
        return await session.get(Participation, user.aad_object_id)


@pytest.fixture(scope="module")
def understanding() -> Understanding:
    return Understanding(default_commands())


@pytest.mark.parametrize(
    ("said", "intent", "argument", "outcome"),
    [
        ("what can u do", "help", "", SURE),
        ("hlep", "help", "", SURE),
        ("chek in", "check in", "", SURE),
        ("my chek ins pls", "my check ins", "", SURE),
        ("can you hold off the check ins for 4 weeks, annual leave", "pause", "4 weeks", CONFIRM),
        ("send me a copy of my data", "export my data", "", CONFIRM),
        ("thanks", "thanks", "", SURE),
        ("\U0001f62d", "low_mood", "", SURE),
        ("rough day", "low_mood", "", SURE),
        ("stop messaging me", "leave_alone", "", CONFIRM),
        ("what's a welcome back conversation?", "policy_question", "", SURE),
    ],
)
def test_the_issues_messages_are_understood(understanding, said, intent, argument, outcome):
    reading = understanding.read(said)
    assert (reading.intent, reading.argument, reading.outcome) == (intent, argument, outcome)


def test_commands_that_change_things_are_marked_in_the_table():
    changing = {c.name for c in default_commands().commands if c.typed and c.changes_state}
    assert changing == {
        "pause",
        "resume",
        "stop",
        "start",
        "delete my data",
        "yes delete my data",
        "export my data",
        "enrol this team",
        "unenrol this team",
        "register experts channel",
        "faq add",
        "faq edit",
        "faq retire",
    }


@pytest.mark.parametrize(
    "said",
    [
        "stopp",
        "pasue",
        "unsubscribe me",
        "please stop the check ins",
        "wipe my data",
        "opt in please",
        "I'm back at work",
    ],
)
def test_a_guess_at_a_command_that_changes_things_is_never_sure(understanding, said):
    reading = understanding.read(said)
    assert not reading.sure and not reading.exact, said


@pytest.mark.parametrize(
    ("said", "intent"),
    [
        ("stop", "stop"),
        ("pause 3 weeks", "pause"),
        ("unsubscribe", "stop"),
        ("forget me", "delete my data"),
    ],
)
def test_the_tables_own_words_act(understanding, said, intent):
    reading = understanding.read(said)
    assert (reading.intent, reading.outcome, reading.exact) == (intent, SURE, True)


def test_a_confirmation_that_erases_is_never_guessed(understanding):
    assert understanding.read("yes delete my data").exact
    assert understanding.read("yes delet my data").intent != "yes delete my data"


def test_in_a_dialog_only_a_certain_command_counts(understanding):
    assert understanding.read("I need a break from everything", in_dialog=True).outcome == NOTHING
    assert understanding.read("pause", in_dialog=True).outcome == SURE
    assert understanding.read("stopp", in_dialog=True).outcome == NOTHING


@pytest.mark.parametrize(
    ("said", "weeks"), [("for a fortnight", 2), ("4 wks", 4), ("two months", 8), ("", None)]
)
def test_weeks_are_read_out_of_a_sentence(said, weeks):
    assert weeks_in(said) == weeks


async def press(bot, user: TeamsUser, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Press a card's button in personal chat; what the bot sent back in that turn."""
    before = len(bot.connector.sent)
    response = await bot.post(activities.card_submit(user, bot.connector.url, data))
    assert response.status == 200
    return [s.body for s in bot.connector.sent[before:]]


def choice_titled(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a["data"] for a in buttons(card) if a["title"] == title)


async def test_a_paraphrased_pause_asks_and_the_button_pauses_for_the_weeks_named(bot):
    user = TeamsUser()
    [card] = cards_of(
        await bot.say(user, "can you hold off the check ins for 4 weeks, annual leave")
    )
    assert card_text(card).startswith("Did you mean")
    assert (await status(bot, user)) is None
    data = choice_titled(card, "pause 4 weeks")
    replies = await press(bot, user, data)
    assert "paused your check-ins for 4 weeks" in text_of(replies)
    assert (await status(bot, user)).status == "paused"


@pytest.mark.parametrize("said", ["stopp", "unsubscribe me", "wipe my data", "opt in pls"])
async def test_a_near_miss_at_a_command_that_changes_things_asks_instead_of_acting(bot, said):
    user = TeamsUser()
    await bot.say(user, "start")
    before = (await status(bot, user)).status
    [card] = cards_of(await bot.say(user, said))
    assert card_text(card).startswith("Did you mean"), said
    assert (await status(bot, user)).status == before, said


async def test_the_tables_own_words_still_act_at_once(bot):
    user = TeamsUser()
    replies = await bot.say(user, "stop")
    assert "**start**" in text_of(replies)
    assert (await status(bot, user)).status == "stopped"


async def test_a_typo_runs_a_read_only_command(bot):
    user = TeamsUser()
    replies = await bot.say(user, "hlep")
    assert cards_of(replies)[0]["body"][0]["text"] == "Here's what I can do"


async def test_asking_to_be_left_alone_asks_once_kindly_and_the_stop_button_stops(bot):
    user = TeamsUser()
    asked = []
    for said in ("go away", "stop messaging me", "leave me alone", "I'm done with this bot"):
        replies = await bot.say(user, said)
        [card] = cards_of(replies)  # a request, not a risk: no crisis card before it
        titles = [a["title"] for a in buttons(card)]
        assert titles == ["Stop the weekly check-ins", "Pause for 4 weeks", "Carry on"], said
        assert "support is still here" in card_text(card), said
        assert (await status(bot, user)) is None, said
        asked.append(card)
    replies = await press(bot, user, choice_titled(asked[0], "Stop the weekly check-ins"))
    assert "**start**" in text_of(replies)
    assert (await status(bot, user)).status == "stopped"


async def test_leave_alone_pauses_for_the_weeks_named_and_carry_on_changes_nothing(bot):
    user = TeamsUser()
    [card] = cards_of(await bot.say(user, "no messages for 2 weeks please"))
    assert [a["title"] for a in buttons(card)][1] == "Pause for 2 weeks"
    replies = await press(bot, user, choice_titled(card, "Carry on"))
    assert "carry on" in text_of(replies)
    assert (await status(bot, user)) is None
    replies = await press(bot, user, choice_titled(card, "Pause for 2 weeks"))
    assert "paused your check-ins for 2 weeks" in text_of(replies)
    assert (await status(bot, user)).status == "paused"


async def test_leaving_with_risk_still_gets_urgent_help(bot):
    user = TeamsUser()
    replies = await bot.say(user, "stop messaging me, I won't be here next week")
    assert card_text(cards_of(replies)[0]).startswith(CRISIS_WORDING["self"][0])
    assert (await status(bot, user)) is None


async def test_small_talk_gets_a_human_reply(bot):
    user = TeamsUser()
    for said in ("thanks", "hello", "\u2764\ufe0f"):
        text = text_of(await bot.say(user, said))
        assert "didn't quite follow" not in text, said
    for said in ("\U0001f62d", "rough day"):
        replies = await bot.say(user, said)
        assert "didn't quite follow" not in text_of(replies), said
        assert any({"command": "support"} in submits(c) for c in cards_of(replies)) or any(
            "support_services" in str(r) or "can help" in text_of([r]) for r in replies
        ), said


async def test_a_policy_question_without_faq_reaches_the_faq(bot):
    user = TeamsUser()
    replies = await bot.say(user, "what's a welcome back conversation?")
    card = cards_of(replies)[0]
    assert "didn't quite follow" not in card_text(card)
    assert any(d.get("command", "").startswith("faq.") for d in submits(card))


async def test_unsure_asks_did_you_mean_and_a_button_does_it(bot, monkeypatch):
    monkeypatch.setattr(understanding_step, "SURE_AT", 1.01)
    user = TeamsUser()
    [card] = cards_of(await bot.say(user, "previous check-ins please"))
    assert card_text(card).startswith("Did you mean")
    choices = [d for d in submits(card) if d["command"] != "help"]
    assert 1 <= len(choices) <= 3
    assert (await status(bot, user)) is None
    response = await bot.post(activities.card_submit(user, bot.connector.url, choices[0]))
    assert response.status == 200


async def test_the_fallback_offers_faq_questions_and_support(bot):
    user = TeamsUser()
    [card] = cards_of(await bot.say(user, "what about the rules for nights after being off"))
    data = submits(card)
    assert {"command": "support"} in data
    assert any(d["command"] == "faq.show" for d in data)
    answer = await bot.post(
        activities.card_submit(
            user, bot.connector.url, next(d for d in data if d["command"] == "faq.show")
        )
    )
    assert answer.status == 200


def test_unsure_is_a_question_not_an_action(understanding, monkeypatch):
    monkeypatch.setattr(understanding_step, "SURE_AT", 1.01)
    assert understanding.read("previous check-ins please").outcome == UNSURE
