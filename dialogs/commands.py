"""The command table: what people can say, where, and the one line of help for each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.events import Reply
from dialogs.text import normalise

if TYPE_CHECKING:
    from core.context import Turn

Handler = Callable[["Turn", str], Awaitable[list[Reply]]]

OBJECT_WORDS = frozenset({"my", "data", "in", "ins", "by"})
"""Words of a command's name that say what it acts on, not what it does."""

ROLES = ("manager", "lead", "coordinator", "hr_expert", "hr_admin", "admin")
"""The roles a command can be for (dialogs/roles.py says who holds each)."""


@dataclass(frozen=True)
class Command:
    """A command: its canonical name, the phrases that invoke it, and where it may be used."""

    name: str
    summary: str
    handler: Handler
    phrases: tuple[str, ...] = ()
    takes_argument: bool = False
    scopes: frozenset[str] = field(default_factory=lambda: frozenset({"personal"}))
    usage: str = ""
    typed: bool = True
    """False for card actions (a form's submit button): reached only through a card's data."""
    examples: tuple[str, ...] = ()
    """Other ways people ask for it ("can you hold off my check ins"): the understanding step
    (dialogs/understanding.py) learns the command from these, so a new command brings its own."""
    audience: str = "everyone"
    """Who `help` lists it for: everyone, or the role that uses it (manager, lead, coordinator,
    hr_expert, hr_admin, admin)."""
    requires: str | None = None
    """The role needed to run it (one of ROLES): the router refuses anyone else, before the
    handler runs, in one wording (dialogs/roles.py). None: anyone may."""
    first_help: int = 0
    """Its place in the short `help` everyone sees (1 first); 0 keeps it for `help more`."""
    guessable: bool = True
    """False: only its exact words invoke it, and a guess never even suggests it (a
    confirmation that erases)."""
    changes_state: bool = False
    """True when it changes anything (check-ins on or off, data, a team, the FAQ, a link
    issued): only its exact words run it, unless it is `undoable`, `asks_first` or
    `private_result`; anything else the understanding step only guesses asks "did you mean
    …?" first, and the button runs it. A guess acts on it only when surer than on a read-only
    command (`Thresholds.act_changing`). False: read-only, so a sure guess may act."""
    undoable: bool = False
    """A change one word undoes (pause and resume, stop and start): a sure guess may act, and
    its reply says how to undo it."""
    asks_first: bool = False
    """Its handler asks before changing anything (delete my data: "are you sure?"), so a sure
    guess may run it: the question is the action."""
    private_result: bool = False
    """What it makes goes only to the person who asked, in their own personal chat, and changes
    nothing they have (export my data: a link to their own data that works once, for 15
    minutes), so a sure guess may run it: a wrong one shows them only what they could ask for.
    Only a command used in personal chat alone may say so."""
    key_words: tuple[str, ...] = ()
    """The words that name what it does ("pause", "delete"): under a negation ("don't pause
    them", "I don't want to stop them completely") the message is not asking for it, and the
    understanding step asks instead of acting. Empty: the words of its name and its one-word
    phrases, but for the words it shares with what it acts on (`OBJECT_WORDS`: "my", "data",
    "in" ...)."""
    asked_for_in_trouble: bool = False
    """Its words are also how a person in trouble asks for help ("help", "support", "urgent
    help"): the understanding step being sure of it never raises the crisis check's bar, as
    being sure of any other command does (dialogs/understanding.py `asks_the_bot`)."""

    @property
    def all_phrases(self) -> tuple[str, ...]:
        return (self.name, *self.phrases)

    @property
    def named_by(self) -> tuple[str, ...]:
        """`key_words`, or the words of its name and its one-word phrases that say what it
        does ("urgent help": urgent, help, crisis, emergency)."""
        if self.key_words:
            return self.key_words
        words = [*self.name.split(), *(p for p in self.phrases if " " not in p)]
        return tuple(dict.fromkeys(w for w in words if w not in OBJECT_WORDS))


@dataclass(frozen=True)
class Match:
    command: Command
    argument: str


class CommandTable:
    """Commands in the order help lists them; validated when built so two never claim one phrase."""

    def __init__(self, commands: Iterable[Command]):
        self.commands: tuple[Command, ...] = tuple(commands)
        self._by_phrase: dict[str, Command] = {}
        for command in self.commands:
            if not command.typed:
                if command.phrases or command.examples:
                    raise ValueError(
                        f"card-only command {command.name!r} cannot have phrases or examples"
                    )
                continue
            for phrase in command.all_phrases:
                key = normalise(phrase)
                if key != phrase:
                    raise ValueError(
                        f"command phrase {phrase!r} must be written normalised ({key!r})"
                    )
                if key in self._by_phrase:
                    raise ValueError(
                        f"phrase {phrase!r} claimed by both {self._by_phrase[key].name!r} "
                        f"and {command.name!r}"
                    )
                self._by_phrase[key] = command
        for command in self.commands:
            if command.requires is not None and command.requires not in ROLES:
                raise ValueError(f"command {command.name!r} requires an unknown role")
            if (command.undoable or command.asks_first) and not command.changes_state:
                raise ValueError(
                    f"command {command.name!r} is undoable or asks first but changes nothing"
                )
            if command.private_result and command.scopes != frozenset({"personal"}):
                raise ValueError(
                    f"command {command.name!r} keeps its result private but can be used "
                    f"outside personal chat"
                )
        names = [c.name for c in self.commands]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"command names used twice: {sorted(duplicates)}")
        self._longest_first = sorted(self._by_phrase, key=len, reverse=True)

    def get(self, name: str) -> Command | None:
        return next((c for c in self.commands if c.name == name), None)

    def match(self, text: str) -> Match | None:
        """The command the text invokes (longest phrase wins), or None when it is not a command."""
        said = normalise(text)
        if not said:
            return None
        if said in self._by_phrase:
            return Match(self._by_phrase[said], "")
        for phrase in self._longest_first:
            command = self._by_phrase[phrase]
            if command.takes_argument and said.startswith(phrase + " "):
                return Match(command, said[len(phrase) + 1 :])
        return None

    def available_in(self, scope: str) -> list[Command]:
        """Commands a person can type here, in help order."""
        return [c for c in self.commands if scope in c.scopes and c.typed]
