"""Answering like a person: requests to be left alone, greetings, thanks and low moods, a
policy question asked in passing, "did you mean …?" when the bot is unsure, and a fallback that
always offers a way on. The understanding step (dialogs/understanding.py) says what was meant;
these stages say what to do about it, in the router's order."""

from __future__ import annotations

import zlib

from core.context import Turn
from core.events import Card, Reply
from dialogs import faq, support, understanding
from dialogs.commands import Command
from dialogs.understanding import (
    CONFIRM,
    GREETING,
    LEAVE_ALONE,
    LOW_MOOD,
    NONE,
    POLICY_QUESTION,
    SUPPORT_NEED,
    THANKS,
    UNSURE,
)

FALLBACK = "Sorry, I didn't quite follow that. Say **help** to see what I can do."

GREETINGS = (
    "Hello! I'm here whenever you want me. Say **check in** to tell me how you're doing, or "
    "**help** to see what else I can do.",
    "Hi there. How are things? Say **check in** whenever you like, or **support** if you'd "
    "like to talk to someone.",
)
THANKS_REPLIES = (
    "You're welcome. I'm here whenever you need me.",
    "Any time. Look after yourself.",
    "Glad to help. Take care of yourself.",
)
LOW_MOOD_REPLIES = (
    "I'm sorry things feel hard right now. You don't have to carry it on your own: there are "
    "people who can help, in confidence, and your manager won't be told.",
    "That sounds tough, and I'm sorry. If it would help to talk to someone, support is here "
    "for you, in confidence.",
)


def _pick(replies: tuple[str, ...], turn: Turn) -> str:
    """A reply that varies with the message, so the bot does not sound like a recording."""
    return replies[zlib.crc32(turn.event.text.encode()) % len(replies)]


LEAVE_ALONE_ASK = "Of course, I can give you some space. What would you like me to do?"
LEAVE_ALONE_SUPPORT = "Whatever you choose, support is still here: say **support** any time."
DEFAULT_PAUSE_WEEKS = 4
CARRIED_ON = "No problem, I'll carry on as usual. Say **pause** or **stop** whenever you like."


async def leave_alone(turn: Turn, argument: str) -> list[Reply]:
    """A request to be left alone the understanding step is sure of: done, not asked about
    (asking would be one more message to someone who asked for none). The weeks named pause
    the check-ins, else they stop; the reply says how to undo it and that support is still
    there."""
    weeks = understanding.weeks_in(argument)
    name, wanted = ("pause", f"{weeks} weeks") if weeks else ("stop", "")
    command = turn.services.commands.get(name)
    if command is None:
        return await ask_about_leaving_alone(turn, argument)
    return await command.handler(turn, wanted)


async def ask_about_leaving_alone(turn: Turn, argument: str) -> list[Reply]:
    """A request to be left alone the step is unsure of: asked once, kindly, and never acted
    on by itself. Stop, pause (for the weeks named, else four) or carry on, each a button; one
    line that support is still there."""
    weeks = understanding.weeks_in(argument) or DEFAULT_PAUSE_WEEKS
    choices = [
        {"title": "Stop the weekly check-ins", "data": {"command": "stop", "argument": ""}},
        {
            "title": f"Pause for {weeks} week{'s' if weeks != 1 else ''}",
            "data": {"command": "pause", "argument": f"{weeks} weeks"},
        },
        {"title": "Carry on", "data": {"command": CARRY_ON.name, "argument": ""}},
    ]
    text = (
        f"{LEAVE_ALONE_ASK}\n\n"
        + "\n".join(f"- **{c['title']}**" for c in choices)
        + f"\n\n{LEAVE_ALONE_SUPPORT}"
    )
    context = {"message": LEAVE_ALONE_ASK, "support_line": LEAVE_ALONE_SUPPORT, "choices": choices}
    return [Reply(card=Card("leave_alone", context, fallback_text=text))]


async def _carry_on(turn: Turn, _argument: str) -> list[Reply]:
    return [Reply(text=CARRIED_ON)]


CARRY_ON = Command("leave alone carry on", "keep the check-ins as they are", _carry_on, typed=False)
"""The leave-alone card's "Carry on": nothing changes."""


async def small_talk_stage(turn: Turn) -> list[Reply] | None:
    """Greetings, thanks and low moods answered like a person."""
    reading = await understanding.read(turn)
    if not (turn.event.personal and reading.sure):
        return None
    if reading.intent == GREETING:
        return [Reply(text=_pick(GREETINGS, turn))]
    if reading.intent == THANKS:
        return [Reply(text=_pick(THANKS_REPLIES, turn))]
    if reading.intent == LOW_MOOD:
        message = _pick(LOW_MOOD_REPLIES, turn)
        services = await support.need_stage(turn)
        if services:
            return [Reply(text=message), *services]
        return [Reply(card=Card("small_talk", {"message": message}, fallback_text=message))]
    return None


def _choice(turn: Turn, intent: str, argument: str) -> dict | None:
    """A did-you-mean button: the command it runs (with the argument read), or the support menu
    for a need or a low mood; None for what a button cannot do (a greeting)."""
    table = turn.services.commands
    if intent in (SUPPORT_NEED, LOW_MOOD):
        intent = "support"
    if intent == LEAVE_ALONE:
        intent = "pause" if argument else "stop"
    if intent == POLICY_QUESTION:
        return {
            "title": "Ask the FAQ",
            "data": {"command": "faq", "argument": turn.event.text.strip()},
        }
    command = table.get(intent)
    if command is None or not command.typed:
        return None
    title = f"{command.name} {argument}".strip() if argument else command.name
    return {"title": title, "data": {"command": command.name, "argument": argument}}


async def did_you_mean_stage(turn: Turn) -> list[Reply] | None:
    """Unsure: the two or three closest, as buttons; never acted on without a press."""
    reading = await understanding.read(turn)
    if not turn.event.personal or reading.outcome != UNSURE:
        return None
    if reading.intent == LEAVE_ALONE:
        return await ask_about_leaving_alone(turn, reading.argument)
    return did_you_mean(turn, reading)


async def confirm(turn: Turn, reading: understanding.Reading) -> list[Reply] | None:
    """A clear guess at something that changes things: asked at the command stage, before
    anything else can take the message, and done only when a button is pressed."""
    if reading.outcome != CONFIRM:
        return None
    return did_you_mean(turn, reading)


def did_you_mean(turn: Turn, reading: understanding.Reading) -> list[Reply] | None:
    """ "Did you mean …?" with a button for each of the closest (the best first)."""
    choices: list[dict] = []
    for intent in (reading.intent, *reading.closest):
        argument = reading.argument if intent == reading.intent else ""
        choice = _choice(turn, intent, argument)
        if choice and choice["data"] not in [c["data"] for c in choices]:
            choices.append(choice)
    choices = choices[:3]
    if not choices:
        return None
    intro = "Did you mean this?" if len(choices) == 1 else "Did you mean one of these?"
    text = intro + "\n\n" + "\n".join(f"- **{c['title']}**" for c in choices)
    return [Reply(card=Card("did_you_mean", {"intro": intro, "choices": choices}, text))]


async def fallback(turn: Turn) -> list[Reply]:
    """Nothing understood: never a dead end. The closest FAQ questions (personal chat) and
    the support menu, with help."""
    reading = await understanding.read(turn)
    suggestions: list[dict] = []
    typed = turn.event.personal and turn.event.text.strip() and not turn.event.value
    if typed and (reading.intent != NONE or len(turn.event.text.split()) >= 3):
        suggestions = await faq.closest_questions(turn, turn.event.text.strip())
    text = FALLBACK + "".join(f"\n- {s['title']}" for s in suggestions)
    return [
        Reply(
            card=Card(
                "fallback", {"message": FALLBACK, "suggestions": suggestions}, fallback_text=text
            )
        )
    ]
