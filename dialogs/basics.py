"""Welcome, help, the privacy promise and the kind fallback: what every person meets first."""

from __future__ import annotations

from core.context import Turn
from core.events import Card, Reply
from dialogs.commands import Command, CommandTable
from dialogs.roles import roles_of
from dialogs.text import normalise

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


MORE = frozenset({"help more", "more"})
ROLE_HEADINGS = {
    "manager": "For managers",
    "lead": "For wellbeing leads",
    "coordinator": "For support coordinators",
    "hr_expert": "For HR experts",
    "hr_admin": "For HR admins",
    "admin": "For admins",
}


def help_rows(
    table: CommandTable, scope: str, roles: frozenset[str], *, more: bool
) -> list[dict[str, str]]:
    """What `help` lists. The short list: everyone's first few (Command.first_help, support
    first), then the commands of each role the person holds. `help more`: everything everyone
    can use here, then their roles'. Other roles' commands and confirmations are never listed."""
    usable = [
        c
        for c in table.available_in(scope)
        if c.guessable and (c.audience == "everyone" or c.audience in roles)
    ]
    everyone = [c for c in usable if c.audience == "everyone"]
    if not more:
        firsts = sorted((c for c in everyone if c.first_help), key=lambda c: c.first_help)
        everyone = firsts or everyone
    rows = [{"usage": c.usage or c.name, "summary": c.summary} for c in everyone]
    for role, heading in ROLE_HEADINGS.items():
        theirs = [c for c in usable if c.audience == role]
        rows += [{"usage": c.usage or c.name, "summary": f"{heading}: {c.summary}"} for c in theirs]
    return rows


def help_reply(
    turn: Turn, table: CommandTable, roles: frozenset[str] = frozenset(), *, more: bool = True
) -> Reply:
    """The commands usable where the person is, one plain line each: the short list, or
    everything with `help more`."""
    scope = turn.event.conversation_kind
    scope = "personal" if scope == "personal" else "channel"
    rows = help_rows(table, scope, roles, more=more)
    shown = {r["usage"] for r in rows}
    hidden = not more and any(
        (c.usage or c.name) not in shown
        for c in table.available_in(scope)
        if c.guessable and (c.audience == "everyone" or c.audience in roles)
    )
    text = "Here's what I can do:\n\n" + "\n".join(
        f"- **{r['usage']}**: {r['summary']}" for r in rows
    )
    if hidden:
        text += "\n\nSay **help more** for the rest."
    if scope == "personal":
        text += "\n\nNobody reads this chat. " + turn.services.org.organisation.urgent_help
    return Reply(
        card=Card(
            "help",
            {
                "rows": rows,
                "more": hidden,
                "urgent_help": turn.services.org.organisation.urgent_help
                if scope == "personal"
                else "",
            },
            fallback_text=text,
        )
    )


async def _help(turn: Turn, argument: str) -> list[Reply]:
    said = normalise(turn.event.text or "")
    more = said in MORE or argument.strip().lower() == "more"
    roles = await roles_of(turn)
    return [help_reply(turn, turn.services.commands, roles, more=more)]


async def _privacy(turn: Turn, _argument: str) -> list[Reply]:
    text = "How I look after what you tell me:\n\n" + "\n".join(f"- {p}" for p in PRIVACY_POINTS)
    return [Reply(text=text)]


HELP = Command(
    "help",
    "see what I can do",
    _help,
    phrases=("what can you do", "commands", "menu", "help more", "more"),
    scopes=frozenset({"personal", "channel"}),
    examples=(
        "what can this bot do",
        "how does this work",
        "show me the commands",
        "what are my options",
        "what do you do",
        "how do i use this",
        "list of commands please",
        "what can i ask you",
        "what can i say",
        "instructions",
        "i dont know how to use this bot",
        "what else can you do",
    ),
    first_help=8,
    asked_for_in_trouble=True,
)
PRIVACY = Command(
    "privacy",
    "how I look after what you tell me",
    _privacy,
    phrases=("who can see my answers", "is this confidential", "data"),
    examples=(
        "can my manager see what i put",
        "does my boss see my answers",
        "is this anonymous",
        "who reads this",
        "is this private",
        "what happens to my answers",
        "will anyone know what i said",
        "does hr see this",
        "privacy policy",
        "how is my information used",
        "are my answers shared with anyone",
        "is anyone watching this chat",
    ),
    first_help=7,
)
