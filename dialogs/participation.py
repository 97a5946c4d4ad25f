"""A person's own control over check-ins: pause, resume, stop and start, each confirmed plainly."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from core.context import Turn
from core.events import Reply
from core.store.models import Participation
from dialogs.commands import Command

MAX_PAUSE_WEEKS = 52
_WEEKS = re.compile(r"^(?:for\s+)?(\d{1,3})(?:\s*(?:weeks?|wks?|w))?$")


class ArgumentError(ValueError):
    """What the person typed after a command could not be understood; the message says why."""


def parse_weeks(argument: str) -> int | None:
    """'2 weeks', 'for 3', '' -> 2, 3, None (no number means until resume)."""
    argument = argument.strip()
    if not argument:
        return None
    if argument in {"a week", "for a week", "one week", "for one week"}:
        return 1
    match = _WEEKS.match(argument)
    if not match:
        raise ArgumentError(
            "I didn't understand how long to pause for. Try **pause 2 weeks**, or just **pause** "
            "to pause until you say **resume**."
        )
    weeks = int(match.group(1))
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        raise ArgumentError(f"I can pause for 1 to {MAX_PAUSE_WEEKS} weeks.")
    return weeks


async def get_participation(session: AsyncSession, aad_object_id: str) -> Participation:
    row = await session.get(Participation, aad_object_id)
    return row or Participation(aad_object_id=aad_object_id)


def is_active(row: Participation, now: datetime) -> bool:
    """Whether the person should get check-ins now (a pause ends by itself on its date)."""
    if row.status == "stopped":
        return False
    if row.status == "paused":
        return row.paused_until is not None and row.paused_until <= now
    return True


async def set_status(
    session: AsyncSession,
    aad_object_id: str,
    status: str,
    now: datetime,
    until: datetime | None = None,
) -> None:
    row = await get_participation(session, aad_object_id)
    row.status, row.paused_until, row.updated_at = status, until, now
    session.add(row)
    await session.commit()


def _needs_person(turn: Turn) -> str:
    if not turn.event.user_id:
        raise ArgumentError("I couldn't tell who you are, so I haven't changed anything.")
    return turn.event.user_id


async def _pause(turn: Turn, argument: str) -> list[Reply]:
    try:
        person = _needs_person(turn)
        weeks = parse_weeks(argument)
    except ArgumentError as error:
        return [Reply(text=str(error))]
    until = turn.now + timedelta(weeks=weeks) if weeks else None
    async with turn.services.sessions() as session:
        await set_status(session, person, "paused", turn.now, until)
    if until:
        when = until.strftime("%A %-d %B")
        text = (
            f"Done. I've paused your check-ins for {weeks} week{'s' if weeks > 1 else ''}. "
            f"They'll start again after {when}. Say **resume** to restart sooner."
        )
    else:
        text = "Done. I've paused your check-ins until you say **resume**."
    return [Reply(text=text + " Support is still here whenever you want it.")]


async def _resume(turn: Turn, _argument: str) -> list[Reply]:
    try:
        person = _needs_person(turn)
    except ArgumentError as error:
        return [Reply(text=str(error))]
    async with turn.services.sessions() as session:
        await set_status(session, person, "active", turn.now)
    return [
        Reply(
            text="Welcome back. Your weekly check-ins are on again. "
            "Say **pause** or **stop** whenever you like."
        )
    ]


async def _stop(turn: Turn, _argument: str) -> list[Reply]:
    try:
        person = _needs_person(turn)
    except ArgumentError as error:
        return [Reply(text=str(error))]
    async with turn.services.sessions() as session:
        await set_status(session, person, "stopped", turn.now)
    return [
        Reply(
            text="Okay. I won't send you any more check-ins. "
            "If you change your mind, just say **start**. "
            "Support is still here whenever you want it."
        )
    ]


PAUSE = Command(
    "pause",
    "take a break from check-ins (say **pause 2 weeks**, or just **pause**)",
    _pause,
    takes_argument=True,
    usage="pause [weeks]",
    examples=(
        "pause my check ins",
        "can you hold off the check ins for a while",
        "im on annual leave for two weeks",
        "i am off on holiday next week",
        "give me a break from the check ins",
        "skip the next few weeks",
        "dont send me check ins while im away",
        "put my check ins on hold",
        "no check ins for a couple of weeks please",
        "im on maternity leave",
        "take a break for a month",
        "suspend my check ins for now",
        "snooze the check ins",
        "i'm away for 3 weeks",
    ),
    first_help=5,
    changes_state=True,
    undoable=True,
)
RESUME = Command(
    "resume",
    "turn check-ins back on after a pause",
    _resume,
    phrases=("unpause",),
    examples=(
        "i'm back from leave",
        "turn my check ins back on",
        "restart my check ins",
        "end the pause",
        "i'm back, send me check ins again",
        "carry on with the check ins",
        "unpause my check ins",
        "back from holiday",
    ),
    changes_state=True,
    undoable=True,
)
STOP = Command(
    "stop",
    "stop weekly check-ins altogether",
    _stop,
    phrases=("unsubscribe", "opt out", "stop check ins"),
    examples=(
        "stop sending me check ins",
        "i dont want the weekly check ins any more",
        "turn off the check ins",
        "cancel my check ins",
        "take me off the list",
        "opt me out of this",
        "i want to stop the check ins for good",
        "no more weekly questions",
        "remove me from the check ins",
        "switch off the wellbeing check",
    ),
    first_help=6,
    changes_state=True,
    undoable=True,
)
START = Command(
    "start",
    "start weekly check-ins again",
    _resume,
    phrases=("opt in", "start check ins", "subscribe"),
    examples=(
        "sign me up for check ins",
        "i want the weekly check ins again",
        "opt me back in",
        "turn the check ins on",
        "i changed my mind send me check ins",
        "add me to the check ins",
        "i'd like to get the weekly check in",
    ),
    changes_state=True,
    undoable=True,
)
