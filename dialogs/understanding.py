"""Understanding what a person meant, read once per message: a command from the command table
(with its argument), a request to be left alone, a greeting or thanks, a low mood, a policy
question, a support need, or nothing the bot knows.

Three readers agree on it. The command table's own words win outright. Otherwise typing slips
are put right word by word against the words the examples use (rapidfuzz, Damerau-Levenshtein),
and the message is compared with every example: by meaning, through the sentence encoder the
crisis check already runs (core/sentence_encoder.py), and by its letters (rapidfuzz's
ratio), whichever is closer. An intent's score is its closest example. The examples live beside
each command in the command table (`Command.examples`), so adding a command teaches this step
too; the intents that are not commands keep theirs here, and policy questions borrow the
shipped FAQ's questions.

The outcome is `sure` (act: a read-only intent, or the command table's own words), `confirm`
(a clear guess at a command that changes something, or a request to be left alone: asked at
once, never done without a button press), `unsure` (ask "did you mean …?" with the closest
few, after the later stages have had their say) or `nothing` (the fallback). Whether a
command changes anything is said once, in the command table (`Command.changes_state`).
Thresholds were tuned on bench/data/understanding_dev.yaml only; bench/understanding_eval.py
scores them.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein

from core import sentence_encoder
from core.context import Turn
from core.faq.io import seed_entries
from dialogs.commands import Command, CommandTable
from dialogs.text import normalise

SURE = "sure"
CONFIRM = "confirm"
UNSURE = "unsure"
NOTHING = "nothing"

LEAVE_ALONE = "leave_alone"
GREETING = "greeting"
THANKS = "thanks"
LOW_MOOD = "low_mood"
POLICY_QUESTION = "policy_question"
SUPPORT_NEED = "support_need"
NONE = "none"

SURE_AT = 0.62
"""The closest example's score at which the step acts without asking (read-only intents)."""
SURE_AT_FOR: dict[str, float] = {
    "check in": 0.76,
    "check in by text": 0.85,
    "greeting": 0.7,
    "help": 0.7,
    "low_mood": 0.65,
    "policy_question": 0.66,
    "report": 0.7,
    "support": 0.72,
    "team": 0.75,
    "urgent help": 0.7,
}
"""A higher bar for the intents the development set showed acting wrongly (near misses such
as "previous check-ins please" read as `check in`, "options?" as `support`)."""
MARGIN = 0.05
"""How far the best intent must lead the next one to act without asking."""
UNSURE_AT = 0.6
"""Below this nothing is close: the fallback, not a question."""
SURE_IN_DIALOG = 0.9
"""While a dialog is in progress a command must be this close, so a note is never a command."""
LETTERS_AT = 85
"""Letters count only when nearly all agree (a slip); "stop" and "start" share half theirs."""
FUZZY_WEIGHT = 0.95
"""Letters alone count a little less than meaning: "stop" and "start" are one letter apart."""

_EMOJI = {
    "\u2764": " thank you ",
    "\u2665": " thank you ",
    "\U0001f499": " thank you ",
    "\U0001f49a": " thank you ",
    "\U0001f49c": " thank you ",
    "\U0001f9e1": " thank you ",
    "\U0001f49b": " thank you ",
    "\U0001f970": " thank you ",
    "\U0001f64f": " thank you ",
    "\U0001f44d": " ok thanks ",
    "\U0001f44b": " hello ",
    "\U0001f62d": " i feel sad ",
    "\U0001f622": " i feel sad ",
    "\U0001f61e": " i feel sad ",
    "\U0001f614": " i feel sad ",
    "\u2639": " i feel sad ",
    "\U0001f641": " i feel sad ",
    "\U0001f629": " i feel awful ",
    "\U0001f62b": " i feel awful ",
    "\U0001f494": " i feel heartbroken ",
    "\U0001f61f": " i feel worried ",
    "\U0001f97a": " i feel sad ",
}
_EMOJI_RE = re.compile("|".join(map(re.escape, _EMOJI)))

# Text-speak read as the words it stands for, before spelling is put right.
_SPEAK = {
    "u": "you",
    "ur": "your",
    "r": "are",
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "ty": "thank you",
    "tysm": "thank you so much",
    "msg": "message",
    "msgs": "messages",
    "wk": "week",
    "wks": "weeks",
    "chk": "check",
    "ci": "check in",
    "checkins": "check ins",
    "cant": "can't",
    "dont": "don't",
    "im": "i'm",
    "n": "and",
    "abt": "about",
    "ppl": "people",
    "idk": "i don't know",
    "wat": "what",
    "wot": "what",
    "hols": "holiday",
    "hol": "holiday",
    "mat": "maternity",
    "hru": "how are you",
    "gd": "good",
    "luv": "love",
    "cya": "bye",
    "bday": "birthday",
}

# Politeness and padding around a command's own words ("can you resume please").
_PADDING = re.compile(
    r"^(?:(?:ok|okay|so|um|erm|yes|yeah)\s+)*"
    r"(?:(?:can|could|would|will) you(?: please)?|please|pls|i'd like to|i would like to"
    r"|i want to|i wanna|i need to|let me|just)?\s*"
    r"|\s*(?:please|pls|thanks|thank you|for me|now|then|again|mate|bot|ta)?[\s?!.]*$"
)

OTHER_INTENTS: dict[str, tuple[str, ...]] = {
    LEAVE_ALONE: (
        "leave me alone",
        "stop messaging me",
        "stop sending me messages",
        "i don't want any more messages",
        "please stop contacting me",
        "go away",
        "i'm done with this bot",
        "stop bothering me",
        "don't message me again",
        "i don't want to hear from this bot",
        "no more messages please",
        "stop pestering me",
        "get off my back",
        "can you stop messaging me",
        "i'm fed up of these messages",
        "stop spamming me",
        "this bot is annoying, stop",
        "quit messaging me",
        "i don't want to talk to a bot",
        "mute",
    ),
    GREETING: (
        "hi",
        "hello",
        "hey",
        "hiya",
        "good morning",
        "good afternoon",
        "good evening",
        "hey there",
        "hello bot",
        "morning",
        "yo",
        "hi how are you",
        "how are you",
        "alright",
        "hello again",
        "greetings",
        "bye",
        "goodbye",
        "see you later",
        "good night",
    ),
    THANKS: (
        "thanks",
        "thank you",
        "thank you so much",
        "cheers",
        "thanks a lot",
        "many thanks",
        "ta",
        "that's helpful thanks",
        "brilliant thank you",
        "thanks that helped",
        "great thanks",
        "ok thanks",
        "perfect thank you",
        "you're a star",
        "lovely thanks",
        "appreciate it",
        "nice one",
        "ok",
        "okay",
        "cool",
        "great",
        "got it",
    ),
    LOW_MOOD: (
        "rough day",
        "i feel sad",
        "feeling low",
        "i'm having a bad day",
        "i'm not ok",
        "feeling down today",
        "today has been awful",
        "i'm so tired of everything",
        "i feel rubbish",
        "not a good day",
        "i'm struggling today",
        "feeling a bit flat",
        "i'm exhausted",
        "had a horrible shift",
        "i feel awful",
        "i'm fed up",
        "i feel lonely",
        "everything is getting on top of me",
        "i've been crying",
        "i'm upset",
        "worst week ever",
        "i feel overwhelmed",
        "bit down",
        "meh",
        "not great",
        "i feel heartbroken",
        "i feel worried",
    ),
    SUPPORT_NEED: (
        "i'm really stressed at work",
        "i need to talk to someone about my mental health",
        "i'm worried about money",
        "i can't pay my bills",
        "my mum died last week",
        "i'm having problems at home",
        "i'm being bullied at work",
        "my back is killing me and i need help",
        "i'm caring for my dad and it's too much",
        "i need counselling",
        "i need adjustments for my disability",
        "can i speak to someone in confidence",
        "i think i'm burnt out",
        "i'm not sleeping because of anxiety",
        "my relationship has broken down",
        "i've got debt problems",
        "my manager is making my life hard",
        "i need occupational health",
        "i'm grieving",
        "i want to talk to someone confidentially",
        "i'm struggling with my mental health",
        "i need help with stress",
    ),
    POLICY_QUESTION: (
        "what is the sickness policy",
        "how many sick days can i have",
        "what's a welcome back conversation",
        "what is a personalised action plan",
        "can someone on a phased return do night shifts",
        "how does a phased return work",
        "do i need a fit note",
        "what happens if i'm off sick a lot",
        "what are the absence triggers",
        "when do i need to call in sick",
        "what's the attendance policy",
        "does the policy cover mental health absence",
        "how long can i be off before occupational health",
        "what counts as a reasonable adjustment",
        "what is a wellbeing conversation",
        "do managers have to do return to work meetings",
    ),
    NONE: (
        "what time is the team meeting",
        "asdf",
        "the printer is broken",
        "what's the weather like",
        "where is the canteen",
        "can you book me a room",
        "what's my annual leave balance",
        "test",
        "lol",
        "who won the football",
        "tell me a joke",
        "what is the wifi password",
        "i need to reset my password",
        "when is payday",
        "send the rota",
        "yes",
        "no",
        "maybe",
        "what",
        "why",
        "blah",
        "qwerty",
        "is the car park open",
        "my computer is slow",
        "my team are brilliant",
        "we're short staffed on the ward",
        "the ward is really busy today",
        "my colleague is on annual leave",
        "i'm going on my break",
        "i'm back from my break",
        "the report is due on friday",
        "i need to stop at the shop",
        "can you send me the minutes",
        "delete this",
    ),
}
"""The intents that are not commands, with examples written for them (none: messages that are
nothing the bot does, so the closest example can say so)."""

_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "couple": 2,
    "couple of": 2,
    "few": 3,
    "a couple of": 2,
    "a few": 3,
}
_COUNT = r"(\d{1,3}|a couple of|couple of|a few|few|an|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_DURATION = re.compile(
    _COUNT + r"\s*(weeks?|wks?|w|months?|days?|fortnights?)\b|\b(fortnight|next week|this week)\b"
)
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTH = re.compile(
    r"\b(last month|this month|"
    + "|".join(m[:3] + r"[a-z]*" for m in _MONTHS)
    + r")\b(?:\s+(\d{4}))?"
)
_GUIDE_TOPICS = (
    ("welcome back", ("welcome back", "return to work", "back to work")),
    ("action plan", ("action plan", "plan")),
    ("team stress", ("stress", "risk assessment")),
    ("conversation", ("conversation", "one to one", "1 to 1", "chat")),
)


def weeks_in(said: str) -> int | None:
    """How many weeks a request names ("for 4 weeks", "a fortnight", "two months"), if any."""
    found = _DURATION.search(said)
    if not found:
        return None
    if found.group(3):
        return 2 if found.group(3) == "fortnight" else 1
    count, unit = found.group(1), found.group(2)
    number = int(count) if count.isdigit() else _NUMBERS.get(count, 1)
    if unit.startswith("month"):
        number *= 4
    elif unit.startswith("day"):
        number = max(1, -(-number // 7))
    elif unit.startswith("fortnight"):
        number *= 2
    return number


def argument_for(command: Command, said: str) -> str:
    """The argument a command takes, read out of a whole sentence: weeks for `pause`, a month
    for `report`, a topic for `guide`; nothing when the sentence names none."""
    if command.name == "pause":
        weeks = weeks_in(said)
        return f"{weeks} weeks" if weeks else ""
    if command.name == "report":
        found = _MONTH.search(said)
        if not found:
            return ""
        if found.group(1) in ("last month", "this month"):
            return found.group(1)
        month = next(m for m in _MONTHS if found.group(1).startswith(m[:3]))
        return f"{month} {found.group(2)}" if found.group(2) else month
    if command.name == "guide":
        return next((topic for topic, cues in _GUIDE_TOPICS if any(c in said for c in cues)), "")
    return ""


def sure_at(intent: str) -> float:
    """The score at which a read-only intent is acted on without asking."""
    return max(SURE_AT, SURE_AT_FOR.get(intent, 0.0))


@dataclass(frozen=True)
class Reading:
    """What a message meant: an intent (a command's name or one of the others), the command's
    argument, how sure, and the closest intents, best first (for "did you mean …?")."""

    intent: str
    argument: str = ""
    outcome: str = NOTHING
    closest: tuple[str, ...] = ()
    score: float = 0.0
    exact: bool = False
    """The command table's own words, not a guess."""

    @property
    def sure(self) -> bool:
        return self.outcome == SURE


NOTHING_READ = Reading(NONE)


class Understanding:
    """The examples of every intent, encoded once; `read` says what one message meant."""

    def __init__(self, table: CommandTable, *, scope: str = "personal") -> None:
        self.table = table
        self.commands = {
            c.name: c for c in table.available_in(scope) if c.guessable and c.name != "faq"
        }
        intents: list[str] = []
        texts: list[str] = []
        for command in self.commands.values():
            for text in (*command.all_phrases, *command.examples):
                intents.append(command.name)
                texts.append(normalise(text))
        for name, examples in {**OTHER_INTENTS, POLICY_QUESTION: _policy_examples()}.items():
            for text in examples:
                intents.append(name)
                texts.append(normalise(text))
        self._intents = np.array(intents)
        self._names = sorted(set(intents))
        self._rows = {name: np.flatnonzero(self._intents == name) for name in self._names}
        self._texts = texts
        self._vectors = _encode(tuple(texts))
        self._vocabulary = sorted({word for text in texts for word in text.split()})
        self._known = _known_words() | set(self._vocabulary)

    def _correct(self, word: str) -> str:
        """A word put right when it is a slip away from a word the examples use ("hlep")."""
        if word in self._known or len(word) < 4 or not word.isalpha():
            return word
        slips = 1 if len(word) < 7 else 2
        found = process.extractOne(
            word, self._vocabulary, scorer=DamerauLevenshtein.distance, score_cutoff=slips
        )
        return found[0] if found else word

    def clean(self, text: str) -> str:
        """The message normalised, emoji as words, text-speak expanded, slips put right."""
        said = normalise(_EMOJI_RE.sub(lambda m: _EMOJI[m.group(0)], text or ""))
        words = " ".join(_SPEAK.get(word, word) for word in said.split()).split()
        return " ".join(self._correct(word) for word in words)

    def read(self, text: str, *, in_dialog: bool = False) -> Reading:
        """What the message meant. Only the command table's own words run a command that
        changes anything; a guess at one is `unsure` (asked about, never done). A request to
        be left alone is never done either: it is `unsure`, and the bot asks what they want.
        In a dialog only an exact or all-but-certain read-only command counts (a note about
        the week is not a command); the other intents are left to the dialog."""
        match = self.table.match(text)
        if match is not None:
            return Reading(
                match.command.name, match.argument, SURE, (match.command.name,), 1.0, True
            )
        said = self.clean(text)
        if not said:
            return NOTHING_READ
        match = self.table.match(said) or self.table.match(_PADDING.sub("", said))
        if match is not None and match.command.name in self.commands:
            command = match.command
            argument = argument_for(command, said) if match.argument else ""
            if in_dialog and command.changes_state:
                return NOTHING_READ
            outcome = CONFIRM if command.changes_state else SURE
            return Reading(command.name, argument, outcome, (command.name,), 1.0)
        said = _PADDING.sub("", said) or said
        scores = self.scores(said)
        ranked = sorted(scores, key=lambda name: -scores[name])
        best, second = ranked[0], ranked[1]
        top = scores[best]
        closest = tuple(n for n in ranked[:3] if scores[n] >= UNSURE_AT and n != NONE)
        command = self.commands.get(best)
        argument = argument_for(command, said) if command else ""
        if best == LEAVE_ALONE:
            weeks = weeks_in(said)
            argument = f"{weeks} weeks" if weeks else ""
        if in_dialog:
            sure = command and not command.changes_state and top >= SURE_IN_DIALOG
            outcome = SURE if sure else NOTHING
        elif best == NONE or top < UNSURE_AT:
            outcome = NOTHING
        elif best == LEAVE_ALONE:
            outcome = CONFIRM
        elif top >= sure_at(best) and top - scores[second] >= MARGIN:
            outcome = CONFIRM if command and command.changes_state else SURE
        else:
            outcome = UNSURE
        return Reading(best, argument, outcome, closest, round(top, 4))

    def scores(self, said: str) -> dict[str, float]:
        """Each intent's closest example, by meaning or by letters."""
        meaning = self._vectors @ sentence_encoder.vector(said)
        letters = process.cdist([said], self._texts, scorer=fuzz.ratio, dtype=np.float32)[0]
        letters = np.where(letters >= LETTERS_AT, FUZZY_WEIGHT * letters / 100.0, 0.0)
        closeness = np.maximum(meaning, letters)
        return {name: float(closeness[rows].max()) for name, rows in self._rows.items()}


@lru_cache(maxsize=4)
def _encode(texts: tuple[str, ...]) -> np.ndarray:
    """The examples' vectors, once per process for each set of examples."""
    return sentence_encoder.shipped().embed(list(texts))


@lru_cache(maxsize=1)
def _policy_examples() -> tuple[str, ...]:
    """Policy questions as the shipped FAQ asks them: its questions and their phrasings."""
    examples = list(OTHER_INTENTS[POLICY_QUESTION])
    for entry in seed_entries():
        examples += [entry.question, *entry.phrasings]
    return tuple(examples)


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Words the encoder knows whole: real words, never put right as slips."""
    return sentence_encoder.shipped().pieces.words()


@lru_cache(maxsize=8)
def understanding_for(table: CommandTable) -> Understanding:
    """One understanding per command table (the encoder's work on the examples is done once)."""
    return Understanding(table)


async def read(turn: Turn) -> Reading:
    """What the turn's message meant, read once per turn and kept for the later stages. Only
    typed text in personal chat is read beyond the command table's own words; the encoder runs
    on a worker thread, as the crisis check's does."""
    if "reading" in turn.notes:
        return turn.notes["reading"]
    event = turn.event
    table = turn.services.commands
    if event.value or not event.text.strip():
        reading = NOTHING_READ
    elif not event.personal:
        match = table.match(event.text)
        reading = (
            Reading(match.command.name, match.argument, SURE, (match.command.name,), 1.0, True)
            if match
            else NOTHING_READ
        )
    else:
        in_dialog = turn.services.dialogs.in_progress(turn)
        understanding = understanding_for(table)
        reading = await asyncio.to_thread(understanding.read, event.text, in_dialog=in_dialog)
    turn.notes["reading"] = reading
    return reading
