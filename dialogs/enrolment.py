"""Admins enrol a team for weekly check-ins from Teams (installing the bot alone does not)."""

from __future__ import annotations

from core.context import Turn
from core.events import Reply
from core.store.models import Team
from dialogs.commands import Command


async def _set_enrolment(turn: Turn, enrolled: bool) -> list[Reply]:
    if not turn.event.team_id:
        return [Reply(text="Say this in a channel of the team you mean, and @mention me.")]
    async with turn.services.sessions() as session:
        team = await session.get(Team, turn.event.team_id)
        if team is None:
            return [Reply(text="I don't know this team yet: add me to it first.")]
        team.enrolled, team.updated_at = enrolled, turn.now
        session.add(team)
        await session.commit()
    if enrolled:
        return [
            Reply(
                text="Done: everyone in this team will get the weekly wellbeing check-in in "
                "a private chat with me, starting with the next one. Each person can "
                "pause or stop it themselves."
            )
        ]
    return [
        Reply(
            text="Done: this team is no longer enrolled. People who added me themselves "
            "still get their check-ins."
        )
    ]


async def _enrol(turn: Turn, _argument: str) -> list[Reply]:
    return await _set_enrolment(turn, True)


async def _unenrol(turn: Turn, _argument: str) -> list[Reply]:
    return await _set_enrolment(turn, False)


CHANNEL = frozenset({"channel"})
ENROL = Command(
    "enrol this team",
    "(admins) send this team's members the weekly check-in",
    _enrol,
    phrases=("enroll this team",),
    scopes=CHANNEL,
    audience="admin",
    requires="admin",
    changes_state=True,
)
UNENROL = Command(
    "unenrol this team",
    "(admins) stop enrolling this team",
    _unenrol,
    phrases=("unenroll this team",),
    scopes=CHANNEL,
    audience="admin",
    requires="admin",
    changes_state=True,
)
