"""One order for every message, so features never fight over it (docs/architecture.md, "The path
of a message").

Personal chat: crisis, command (understood, dialogs/understanding.py), dialog in progress,
refusal, small talk or a policy question, recognised need or policy question, "did you mean",
fallback.
Channels and group chats (only when @mentioned): crisis, command, policy question.
Each stage returns replies when it handled the message, or None to pass it on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence

from core.config.orgconfig import OrgConfig
from core.context import Turn
from core.events import Reply
from dialogs import (
    basics,
    checkin,
    conversation,
    enrolment,
    faq,
    leadreport,
    manager,
    participation,
    rights,
    roles,
    support,
    understanding,
)
from dialogs.commands import CommandTable
from dialogs.engine import DialogEngine

Stage = Callable[[Turn], Awaitable[list[Reply] | None]]

CORE_COMMANDS = (
    basics.HELP,
    checkin.CHECK_IN,
    checkin.MY_CHECKINS,
    checkin.CHECK_IN_BY_TEXT,
    checkin.SUBMIT_CHECKIN,
    enrolment.ENROL,
    enrolment.UNENROL,
    participation.PAUSE,
    participation.RESUME,
    participation.STOP,
    participation.START,
    basics.PRIVACY,
    rights.EXPORT,
    rights.DELETE,
    rights.DELETE_CONFIRMED,
    rights.CONFIRM_DELETE,
    rights.CANCEL_DELETE,
    manager.TEAM,
    manager.PROMPTS,
    manager.GUIDE,
    leadreport.REPORT,
    *faq.COMMANDS,
    *support.COMMANDS,
    conversation.CARRY_ON,
)


def default_commands() -> CommandTable:
    return CommandTable(CORE_COMMANDS)


def default_dialogs(org: OrgConfig) -> DialogEngine:
    """Every text dialog the bot can hold."""
    return DialogEngine([checkin.text_checkin_dialog(org.checkin.questions)])


def default_router() -> Router:
    """The order of docs/architecture.md. Personal chat: crisis, command, dialog in progress, need or policy
    question, fallback. Channels and group chats (when @mentioned): crisis, command, FAQ."""
    return Router(
        personal=(
            support.crisis_stage,
            command_stage,
            dialog_stage,
            manager.person_question_stage,
            conversation.small_talk_stage,
            need_and_policy_stage,
            conversation.did_you_mean_stage,
        ),
        shared=(
            support.crisis_stage,
            command_stage,
            manager.person_question_stage,
            faq.channel_stage,
        ),
    )


QUESTION_WORDS = frozenset(
    [
        "what",
        "how",
        "can",
        "could",
        "do",
        "does",
        "did",
        "is",
        "are",
        "am",
        "was",
        "will",
        "would",
        "should",
        "who",
        "where",
        "when",
        "why",
        "which",
    ]
)


def asks_a_question(text: str) -> bool:
    """A question mark, or a sentence that opens like a question ("how does … work")."""
    words = re.findall(r"[a-z']+", text.lower())
    return "?" in text or bool(words and words[0] in QUESTION_WORDS)


async def need_and_policy_stage(turn: Turn) -> list[Reply] | None:
    """A support need recognised in the text, and a policy question the FAQ answers
    confidently: both, when both apply (services first). Someone telling the bot how things
    are ("I just want to talk to someone") gets the services alone; the FAQ joins in only
    when they ask. A message the understanding step is sure is a policy question ("what's a
    welcome back conversation?") always reaches the FAQ: its answer, or its closest questions
    (not services the question only mentions)."""
    reading = await understanding.read(turn)
    policy_question = reading.sure and reading.intent == understanding.POLICY_QUESTION
    needs = await support.need_stage(turn)
    if needs and not (policy_question or asks_a_question(turn.event.text)):
        return needs
    policy = await faq.policy_question_stage(turn)
    if needs and policy:
        return [*needs, *policy]
    if policy_question and not policy:
        return await faq.answer(turn, turn.event.text.strip(), mode="command")
    return needs or policy


async def dialog_stage(turn: Turn) -> list[Reply] | None:
    """The text dialog in progress, if any (a command typed mid-dialog wins, by order)."""
    return await turn.services.dialogs.stage(turn)


async def command_stage(turn: Turn) -> list[Reply] | None:
    """A typed command, or a card button that names one: data {"command": "help", ...}.

    Typed text goes through the understanding step: the command table's own words run their
    command; a message it is sure means a command runs that when a guess may (read-only, undone
    by one word like pause and stop, asking first like delete my data, or private to the person
    like export my data's link), and a sure request to be left alone stops or pauses the
    check-ins, each saying how to undo it. While a dialog is in progress only a read-only
    command the step is all but certain of counts, so a note is never read as a command. A
    clear guess at any other command that changes something (the admins' commands) is asked
    about here ("did you mean …?") and done only on a button press.

    Card buttons may carry more fields; the handler reads them from `turn.event.value`.
    """
    table = turn.services.commands
    value = turn.event.value or {}
    if isinstance(value.get("command"), str):
        command = table.get(value["command"])
        match = table.match(value["command"]) if command is None else None
        if command is None and match is None:
            return None
        if command is None:
            command, argument = match.command, match.argument
        else:
            argument = str(value.get("argument", ""))
    else:
        reading = await understanding.read(turn)
        if not reading.exact and manager.asks_about_a_person(turn.event.text):
            return None  # a guess never answers about someone else: the refusal stage does
        if reading.outcome == understanding.CONFIRM:
            return await conversation.confirm(turn, reading)
        if not reading.sure:
            return None
        if reading.intent == understanding.LEAVE_ALONE:
            return await conversation.leave_alone(turn, reading.argument)
        found = table.get(reading.intent)
        if found is None:
            return None
        if not reading.exact and not understanding.acts_on_a_guess(found):
            return None  # never acted on a guess: understanding.read says CONFIRM instead
        if not reading.exact and found is support.SUPPORT and support.names_a_need(turn):
            return None  # a guess at the menu that names a need: the need stage matches it
        command, argument = found, reading.argument
    scope = "personal" if turn.event.personal else "channel"
    if scope not in command.scopes:
        return [
            Reply(
                text=f"Let's keep that private: open a one-to-one chat with me and say "
                f"**{command.name}** there."
            )
        ]
    if not await roles.allowed(turn, command):
        return [Reply(text=roles.refusal(command))]
    return await command.handler(turn, argument)


async def fallback_stage(turn: Turn) -> list[Reply]:
    return await conversation.fallback(turn)


class Router:
    """Runs the stages in order; the first that answers wins, and something always answers."""

    def __init__(self, personal: Sequence[Stage], shared: Sequence[Stage]):
        self.personal = tuple(personal)
        self.shared = tuple(shared)

    async def on_message(self, turn: Turn) -> list[Reply]:
        stages = self.personal if turn.event.personal else self.shared
        for stage in stages:
            replies = await stage(turn)
            if replies:
                return replies
        return await fallback_stage(turn)
