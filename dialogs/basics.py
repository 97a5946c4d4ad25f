"""Welcome, help, the privacy promise and the kind fallback: what every person meets first."""

from __future__ import annotations

from core.context import Turn
from core.events import Card, Reply
from dialogs.commands import Command, CommandTable

PRIVACY_POINTS = (
    "What you tell me is private. Your manager never sees your answers, and nor does anyone else.",
    "Managers only ever see a summary for a whole team, and only when enough people have answered "
    "that nobody can be picked out.",
    "Nobody reads this chat. It is not watched by a person.",
    "You can see, download or delete what I hold about you at any time.",
)


def welcome(org_name: str, urgent_help: str, table: CommandTable) -> Reply:
    """The first message after a personal install: what I do, the privacy promise, how to stop."""
    lines = [
        f"Hello, I'm the wellbeing bot for {org_name}.",
        "Once a week, on Wellbeing Wednesday, I'll ask how you're doing. It takes under a minute "
        "and you can skip any week.",
        *PRIVACY_POINTS[:3],
        f"If you need help urgently: {urgent_help}",
        _control_line(table),
    ]
    return Reply(
        card=Card(
            "welcome",
            {
                "org_name": org_name,
                "privacy_points": PRIVACY_POINTS[:3],
                "urgent_help": urgent_help,
                "control_line": _control_line(table),
            },
            fallback_text="\n\n".join(lines),
        )
    )


def _control_line(table: CommandTable) -> str:
    names = [name for name in ("pause", "stop") if table.get(name)]
    said = " or ".join(f"**{name}**" for name in names)
    lead = f"Say {said} whenever you like. " if names else ""
    return f"{lead}Say **help** to see everything I can do."


def help_reply(turn: Turn, table: CommandTable) -> Reply:
    """Every command usable where the person is, one plain line each."""
    scope = turn.event.conversation_kind
    scope = "personal" if scope == "personal" else "channel"
    rows = [
        {"usage": command.usage or command.name, "summary": command.summary}
        for command in table.available_in(scope)
    ]
    text = "Here's what I can do:\n\n" + "\n".join(
        f"- **{r['usage']}**: {r['summary']}" for r in rows
    )
    if scope == "personal":
        text += "\n\nNobody reads this chat. " + turn.services.org.organisation.urgent_help
    return Reply(
        card=Card(
            "help",
            {
                "rows": rows,
                "urgent_help": turn.services.org.organisation.urgent_help
                if scope == "personal"
                else "",
            },
            fallback_text=text,
        )
    )


def fallback(turn: Turn) -> Reply:
    """Never silence: a kind pointer to help when nothing else understood the message."""
    text = "Sorry, I didn't quite follow that. Say **help** to see what I can do."
    return Reply(card=Card("fallback", {"message": text}, fallback_text=text))


async def _help(turn: Turn, _argument: str) -> list[Reply]:
    return [help_reply(turn, turn.services.commands)]


async def _privacy(turn: Turn, _argument: str) -> list[Reply]:
    text = "How I look after what you tell me:\n\n" + "\n".join(f"- {p}" for p in PRIVACY_POINTS)
    return [Reply(text=text)]


HELP = Command(
    "help",
    "see what I can do",
    _help,
    phrases=("what can you do", "commands", "menu", "hi", "hello"),
    scopes=frozenset({"personal", "channel"}),
)
PRIVACY = Command(
    "privacy",
    "how I look after what you tell me",
    _privacy,
    phrases=("who can see my answers", "is this confidential", "data"),
)
