"""Commands: matching, the person's own controls, and where each may be used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.store.models import Participation
from dialogs.commands import Command, CommandTable
from dialogs.participation import ArgumentError, is_active, parse_weeks
from dialogs.router import default_commands
from tests.support import activities
from tests.support.activities import TeamsTeam, TeamsUser

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("said", "name", "argument"),
    [
        ("help", "help", ""),
        ("  HELP!! ", "help", ""),
        ("What can you do?", "help", ""),
        ("pause 2 weeks", "pause", "2 weeks"),
        ("Pause for 3 weeks.", "pause", "for 3 weeks"),
        ("opt out", "stop", ""),
        ("stop check-ins", "stop", ""),
        ("Start", "start", ""),
    ],
)
def test_commands_match_however_they_are_typed(said, name, argument):
    match = default_commands().match(said)
    assert match is not None and match.command.name == name and match.argument == argument


@pytest.mark.parametrize(
    "said", ["", "helpful", "I want to stop feeling like this", "help me out here"]
)
def test_sentences_that_merely_contain_a_command_word_are_not_commands(said):
    assert default_commands().match(said) is None


def test_two_commands_cannot_claim_one_phrase():
    async def handler(turn, argument):
        return []

    with pytest.raises(ValueError, match="claimed by both"):
        CommandTable([Command("a", "x", handler, phrases=("go",)), Command("go", "y", handler)])


@pytest.mark.parametrize(
    ("text", "weeks"), [("", None), ("2 weeks", 2), ("for 1 week", 1), ("a week", 1), ("3", 3)]
)
def test_pause_lengths(text, weeks):
    assert parse_weeks(text) == weeks


@pytest.mark.parametrize("text", ["0", "53 weeks", "for ever", "two weeks please"])
def test_pause_lengths_that_make_no_sense_are_explained(text):
    with pytest.raises(ArgumentError):
        parse_weeks(text)


def test_a_pause_ends_by_itself():
    row = Participation(aad_object_id="x", status="paused", paused_until=NOW + timedelta(weeks=2))
    assert not is_active(row, NOW)
    assert is_active(row, NOW + timedelta(weeks=2, seconds=1))
    assert not is_active(
        Participation(aad_object_id="x", status="paused"), NOW + timedelta(days=999)
    )
    assert not is_active(Participation(aad_object_id="x", status="stopped"), NOW)
    assert is_active(Participation(aad_object_id="x"), NOW)


async def _status(bot, user):
    async with bot.services.sessions() as session:
        return await session.get(Participation, user.aad_object_id)


async def test_pause_resume_stop_start_are_confirmed_and_stored(make_bot):
    bot = await make_bot(clock=lambda: NOW)
    user = TeamsUser()
    await bot.install(user)

    reply = (await bot.say(user, "pause 2 weeks"))[0]["text"]
    assert "paused your check-ins for 2 weeks" in reply and "Wednesday 9 December" in reply
    row = await _status(bot, user)
    assert row.status == "paused" and row.paused_until == NOW + timedelta(weeks=2)

    assert "until you say **resume**" in (await bot.say(user, "pause"))[0]["text"]
    assert (await _status(bot, user)).paused_until is None

    assert "on again" in (await bot.say(user, "resume"))[0]["text"]
    assert (await _status(bot, user)).status == "active"

    assert "won't send you any more" in (await bot.say(user, "stop"))[0]["text"]
    assert (await _status(bot, user)).status == "stopped"

    assert "on again" in (await bot.say(user, "start"))[0]["text"]
    assert (await _status(bot, user)).status == "active"


async def test_a_nonsense_pause_changes_nothing(bot):
    user = TeamsUser()
    reply = (await bot.say(user, "pause for ever"))[0]["text"]
    assert "pause 2 weeks" in reply
    assert await _status(bot, user) is None


async def test_help_in_a_channel_replies_in_the_thread(bot):
    user, team = TeamsUser(), TeamsTeam()
    activity = activities.channel_message(user, team, bot.connector.url, "help")
    assert (await bot.post(activity)).status == 200
    [sent] = bot.connector.sent
    assert sent.conversation_id == activity["conversation"]["id"]  # the thread, ;messageid=…
    assert sent.body.get("replyToId") == activity["id"]
    card = sent.body["attachments"][0]["content"]
    titles = {fact["title"] for fact in card["body"][1]["facts"]}
    assert "help" in titles
    assert not titles & {"pause [weeks]", "stop", "start", "resume", "check in", "my check-ins"}, (
        "personal commands are not offered in a channel"
    )
    assert not any("Nobody reads this chat" in str(block) for block in card["body"])


async def test_personal_commands_in_a_channel_are_moved_to_private(bot):
    user, team = TeamsUser(), TeamsTeam()
    activity = activities.channel_message(user, team, bot.connector.url, "pause 2 weeks")
    await bot.post(activity)
    [sent] = bot.connector.sent
    assert "private" in sent.body["text"] and "pause" in sent.body["text"]
    assert await _status(bot, user) is None


async def test_group_chat_mention_gets_help(bot):
    user = TeamsUser()
    chat = "19:groupchat-" + user.aad_object_id + "@thread.v2"
    await bot.post(activities.group_chat_message(user, bot.connector.url, chat, "help"))
    [sent] = bot.connector.sent
    assert sent.conversation_id == chat
