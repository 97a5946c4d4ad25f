"""One order for every message, so features never fight over it (DESIGN.md, 'What the bot does').

Personal chat: crisis, command, dialog in progress, recognised need or policy question, fallback.
Channels and group chats (only when @mentioned): crisis, command, policy question.
Each stage returns replies when it handled the message, or None to pass it on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from dialogs import basics, participation
from dialogs.commands import CommandTable
from dialogs.context import Turn
from dialogs.events import Reply

Stage = Callable[[Turn], Awaitable[list[Reply] | None]]

CORE_COMMANDS = (
    basics.HELP,
    participation.PAUSE,
    participation.RESUME,
    participation.STOP,
    participation.START,
    basics.PRIVACY,
)


def default_commands() -> CommandTable:
    return CommandTable(CORE_COMMANDS)


def default_router() -> Router:
    """The order of DESIGN.md. Personal chat: crisis, command, dialog in progress, need or policy
    question, fallback. Channels and group chats (when @mentioned): crisis, command, FAQ."""
    return Router(
        personal=(command_stage,),
        shared=(command_stage,),
    )


async def command_stage(turn: Turn) -> list[Reply] | None:
    """A typed command, or a card button that names one: data {"command": "help", ...}.

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
        match = table.match(turn.event.text)
        if match is None:
            return None
        command, argument = match.command, match.argument
    scope = "personal" if turn.event.personal else "channel"
    if scope not in command.scopes:
        return [
            Reply(
                text=f"Let's keep that private: open a one-to-one chat with me and say "
                f"**{command.name}** there."
            )
        ]
    return await command.handler(turn, argument)


async def fallback_stage(turn: Turn) -> list[Reply]:
    return [basics.fallback(turn)]


class Router:
    """Runs the stages in order; the first that answers wins, and something always answers."""

    def __init__(
        self, personal: Sequence[Stage] | None = None, shared: Sequence[Stage] | None = None
    ):
        self.personal = tuple(personal or (command_stage,))
        self.shared = tuple(shared or (command_stage,))

    async def on_message(self, turn: Turn) -> list[Reply]:
        stages = self.personal if turn.event.personal else self.shared
        for stage in stages:
            replies = await stage(turn)
            if replies:
                return replies
        return await fallback_stage(turn)
