"""Understanding what a person meant, read once per message: a command from the command table
(with its argument), a request to be left alone, a greeting or thanks, a low mood, a policy
question, a support need, or nothing the bot knows.

The command table's own words win outright. Otherwise the message is tidied (emoji as words,
text-speak expanded, typing slips put right against the words the examples use, with
rapidfuzz's Damerau-Levenshtein) and read by the learned intent classifier
(dialogs/intent_model.py: the sentence encoder's sense of meaning plus letter runs for typos,
fitted offline on the examples kept beside each command in the command table), which gives a
calibrated probability for every intent.

The outcome is `sure` (act), `confirm` (ask at once, at the command stage), `unsure` (ask "did
you mean …?" with the closest few, after the later stages have had their say) or `nothing` (the
fallback). A command that changes something acts on a guess only when one word undoes it
(`Command.undoable`: pause, resume, stop, start), it asks before it changes anything
(`Command.asks_first`: delete my data) or what it makes goes only to the person in their own
chat (`Command.private_result`: export my data); any other (the admins' commands) is asked
about first. Such a guess must be surer than one at a read-only command
(`Thresholds.act_changing`). The thresholds come with the model, chosen by the training
script on readings of writers the fit had not seen (each blind writer left out in turn) and
on bench/data/understanding_dev.yaml, which the fit never sees; bench/understanding_eval.py
scores them.

A command whose own words are negated ("don't pause my check ins", "I don't want to stop
them completely": `Command.named_by` under "don't", "not", "no need to" ...) is asked about,
never done: the classifier hears the command's words either way.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from core import sentence_encoder
from core.context import Turn
from dialogs import intent_model
from dialogs.commands import Command, CommandTable
from dialogs.intent_model import GREETING as GREETING
from dialogs.intent_model import LEAVE_ALONE as LEAVE_ALONE
from dialogs.intent_model import LOW_MOOD as LOW_MOOD
from dialogs.intent_model import NONE as NONE
from dialogs.intent_model import POLICY_QUESTION as POLICY_QUESTION
from dialogs.intent_model import SUPPORT_NEED as SUPPORT_NEED
from dialogs.intent_model import THANKS as THANKS
from dialogs.intent_model import IntentModel, guessable_commands
from dialogs.participation import ArgumentError, parse_weeks
from dialogs.text import normalise
from signposting.crisis import parts

SURE = "sure"
CONFIRM = "confirm"
UNSURE = "unsure"
NOTHING = "nothing"

CLOSE_ENOUGH = 0.1
"""An intent this probable is offered on a "did you mean …?" card beside the best."""
COMMON_WORD = 10
"""A word this many examples use is common: a rare word one slip from it is taken for a slip."""

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
    "eap": "employee assistance programme",
    "b4": "before",
    "rn": "right now",
    "yday": "yesterday",
    "tmrw": "tomorrow",
    "txt": "text",
    "mtg": "meeting",
    "mtgs": "meetings",
    "mgr": "manager",
    "mgrs": "managers",
    "q": "question",
    "qs": "questions",
    "req": "request",
    "reqs": "requests",
    "cmd": "command",
    "cmds": "commands",
    "prev": "previous",
    "hist": "history",
    "dets": "details",
    "deets": "details",
    "appt": "appointment",
    "lv": "leave",
    "mo": "month",
    "mos": "months",
    "mth": "month",
    "mths": "months",
    "mnth": "month",
    "mnths": "months",
    # Lengths in the languages second-language writers fall back on.
    "semana": "week",
    "semanas": "weeks",
    "tydzien": "week",
    "tydzień": "week",
    "tygodnie": "weeks",
    "tygodni": "weeks",
    "hafta": "week",
    "hafte": "weeks",
    "mes": "month",
    "mês": "month",
    "meses": "months",
    "miesiac": "month",
    "miesiąc": "month",
    "miesiące": "months",
    "buwan": "month",
}

# Workplace initials that are also everyday words in lower case ("oh thanks", "sar"): read
# as what they stand for only in capitals, before the message is lower-cased.
_INITIALS = {
    "OH": "occupational health",
    "EAP": "employee assistance programme",
    "RSI": "repetitive strain injury",
    "MSK": "musculoskeletal",
    "SAR": "subject access request",
}
_INITIALS_RE = re.compile(r"\b(" + "|".join(_INITIALS) + r")\b")
_NUMBER_ABBREVIATED = re.compile(r"\b((?:[A-Z]{2,}|(?i:phone|tel|contact))\s+)(?:no|No)\.")
"""'EAP no.', 'phone no.': a number asked for, not a refusal."""

# Politeness and padding around a command's own words ("can you resume please").
_PADDING = re.compile(
    r"^(?:(?:ok|okay|so|um|erm|yes|yeah)\s+)*"
    r"(?:(?:can|could|would|will) you(?: please)?|please|pls|i'd like to|i would like to"
    r"|i want to|i wanna|i need to|let me|just)?\s*"
    r"|\s*(?:please|pls|thanks|thank you|for me|now|then|again|mate|bot|ta)?[\s?!.]*$"
)

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
    r"\b"
    + _COUNT
    + r"\s*(weeks?|wks?|w|months?|days?|fortnights?)\b|\b(fortnight|next week|this week)\b"
)
_WHEN_NOT_HOW_LONG = ("next week", "this week")
"""Words that may say when rather than how long ("an operation next week, off for a month"):
a length named otherwise wins."""
MONTHS = [
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
    + "|".join(m[:3] + r"[a-z]*" for m in MONTHS)
    + r")\b(?:\s+(\d{4}))?"
)
_GUIDE_TOPICS = (
    ("welcome back", ("welcome back", "return to work", "back to work")),
    ("action plan", ("action plan", "plan")),
    ("team stress", ("stress", "risk assessment")),
    ("conversation", ("conversation", "one to one", "1 to 1", "chat")),
)


def weeks_in(said: str) -> int | None:
    """How many weeks a request names ("for 4 weeks", "a fortnight", "two months"), if any;
    "next week" only when it names no other length."""
    lengths = list(_DURATION.finditer(said))
    found = next((f for f in lengths if f.group(3) not in _WHEN_NOT_HOW_LONG), None)
    found = found or next(iter(lengths), None)
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
        for found in _MONTH.finditer(said):
            if found.group(1) in ("last month", "this month"):
                return found.group(1)
            month = month_named(found.group(1))
            if month and not _may_the_verb(said, found):
                year = found.group(2) or _only_year(said)
                return f"{month} {year}" if year else month
        return ""
    if command.name == "guide":
        return next((topic for topic, cues in _GUIDE_TOPICS if any(c in said for c in cues)), "")
    return ""


_YEAR = re.compile(r"\b(20\d\d)\b")
_WORDS_NOT_MONTHS = ("mars", "mays")


def _only_year(said: str) -> str:
    """The one year a sentence names away from its month ("last novembers report, the 2024
    one"); nothing when it names none or several."""
    years = set(_YEAR.findall(said))
    return years.pop() if len(years) == 1 else ""


def month_named(word: str) -> str | None:
    """The month a word names: its name, its first three letters ("sept" too), either with an
    s for "'s" typed without the apostrophe ("jans", "novembers"), or a slip of its name longer
    than five letters ("febuary"); None for a word that only starts alike ("decided",
    "separate", "maybe", "mars") or a short one a letter off ("mayo", "junk", "marc")."""
    for month in MONTHS:
        if not word.startswith(month[:3]):
            continue
        names = (month, month[:3], *(("sept",) if month == "september" else ()))
        possessive = word.endswith("s") and word[:-1] in names and word not in _WORDS_NOT_MONTHS
        if word in names or possessive:
            return month
        if len(month) > 5 and DamerauLevenshtein.distance(word, month) <= 2:
            return month
    return None


_MAY_AS_A_MONTH = re.compile(
    r"(?:\b(?:in|for|of|from|since|until|till|to|last|this|early|mid|late|end|start)\s+may\b"
    r"|\bmay(?:\s+\d{4}|'s|\s*$))"
)


def _may_the_verb(said: str, found: re.Match[str]) -> bool:
    """ "Please may I have the report for November": `may` is a month only where a month
    stands ("for may", "may 2025", "may's", at the end)."""
    if found.group(1) != "may":
        return False
    return not any(m.start() <= found.start() < m.end() for m in _MAY_AS_A_MONTH.finditer(said))


_SENTENCE = re.compile(r"[.!?\n]+")
_BREAK = re.compile(r"[.,;:!?()]|\s[-\u2013\u2014]|[-\u2013\u2014]\s")
_A_NUMBER = re.compile(
    r"\b(?:\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|couple|few)\b"
)
_NOT_A_LENGTH = re.compile(
    r"\s*(?:hours?|hrs?|h|minutes?|mins?|am|pm|o'clock|percent|patients|beds|families|people)\b"
)


def set_apart(text: str, argument: str) -> bool:
    """Whether the command's own words end at a break ("pause. 2 wks annual lv"): what
    follows is a reason, and counts as the argument only where it names one."""
    said = normalise(text)
    words = said[: len(said) - len(argument)].strip()
    head = _BREAK.split(text, maxsplit=1)
    return len(head) > 1 and bool(words) and normalise(head[0]) == words


def length_unread(intent: str, argument: str, said: str) -> bool:
    """A pause (or being left alone) with a number in it but no length read: the number is
    probably the length, in words the step does not know, so it asks rather than pause for
    the wrong time. A number of hours or a time of day ("a 12 hour shift") is no length."""
    if intent not in ("pause", LEAVE_ALONE) or argument:
        return False
    return any(not _NOT_A_LENGTH.match(said, found.end()) for found in _A_NUMBER.finditer(said))


def month_meant(command: Command, argument: str, tidied: str) -> str | None:
    """For `report` with a month in more words than the handler reads ("report for january",
    "report for last month"): the month, as the step reads it. None otherwise: its own words
    stand ("report 2025-01"), and words naming no month get the answer saying how."""
    if command.name != "report" or not argument:
        return None
    month = argument_for(command, tidied)
    return month if month and month != argument else None


_NEGATION = re.compile(
    r"(?<!why )\b(?:don'?t|do not|doesn'?t|does not|didn'?t|did not|not|never|no need to"
    r"|rather not|without)\b((?:\s+(?:want|wanna|need|have|going|gonna|to|do|be|the|my|me"
    r"|them|these|those|it|any|anything|your|you|please|ever|really|actually|yet|asking"
    r"|asked|saying|said|trying|mean|meant|like|wish|wanting|planning))*)\s+([a-z]+)"
)
NEGATION_REACH = 4
"""Most words a negation reaches across to the word it governs ("don't really want to
stop them"); further off, it is about something else."""
_ENDINGS = ("", "e", "s", "es", "ed", "d", "ing", "ping", "ped", "ps")


def negated_words(said: str) -> list[str]:
    """The words a negation governs in a tidied message ("I don't want to stop them": stop;
    "no need to resume yet": resume). Not after "why" ("why don't you stop") nor for a
    negation that is the request itself ("don't send me any more", "can you not message
    me"): those govern sending and messaging, which name no command."""
    return [
        found.group(2)
        for found in _NEGATION.finditer(said)
        if len(found.group(1).split()) <= NEGATION_REACH
    ]


def said_not_to(command: Command, said: str) -> bool:
    """Whether the message negates the command's own words ("don't pause my check ins",
    "I don't want to stop them completely", "dont want to export anything just curious"):
    it is then no request for it, whatever the classifier heard in the words."""
    governed = negated_words(said)
    return any(_inflects(word, key) for word in governed for key in command.named_by)


def _inflects(word: str, key: str) -> bool:
    """Whether a word is the key word or an ending of it ("stopping", "paused", "deleted")."""
    stem = key[:-1] if key.endswith("e") else key
    return word.startswith(stem) and word[len(stem) :] in _ENDINGS


GUESS_WORDS_TO_CHANGE = 3
"""Fewest words a guess must have read to change someone's check-ins: "im done", "im
finished" or "over it" may be about the bot, the shift or life, so they ask first."""


def too_short_to_change(said: str) -> bool:
    """Whether a tidied message is too short for a guess that stops, pauses or restarts
    check-ins: two words carry too little to tell a request from despair or a stray reply."""
    return len(said.split()) < GUESS_WORDS_TO_CHANGE


def no_length(command: Command, argument: str) -> bool:
    """`pause` followed by words that are no length ("pause is over, turn them back on"): the
    whole sentence may mean another intent, so the classifier reads it; unless it is sure of
    another ("pause the music", "pause my private words"), the command's answer says how to
    give a length."""
    if command.name != "pause" or not argument:
        return False
    try:
        parse_weeks(argument)
    except ArgumentError:
        return True
    return False


def without_padding(argument: str) -> str:
    """A command's argument without politeness ("pause pls": no argument at all)."""
    return _PADDING.sub("", argument).strip()


def weeks_meant(command: Command, argument: str, tidied: str = "") -> str | None:
    """For `pause` typed with a length it cannot read but a sentence that names one ("pause em
    for 6 wks pls", "pause 3 semanas": `tidied` is the argument with text-speak expanded): the
    weeks, as it reads them. None otherwise: its own words stand, and a length nobody could
    read ("pause the music") gets its answer saying how to say it."""
    if command.name != "pause" or not argument:
        return None
    try:
        parse_weeks(argument)
    except ArgumentError:
        weeks = weeks_in(argument) or weeks_in(tidied)
        return f"{weeks} weeks" if weeks else None
    return None


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


class Cleaner:
    """A message tidied for reading: workplace initials spelt out, normalised, emoji as words,
    text-speak expanded, and a word that is a slip away from a word the examples use put right
    ("hlep" -> "help")."""

    def __init__(self, words: frozenset[str]) -> None:
        self._vocabulary = sorted(words)
        self._known = _known_words() | words

    def _correct(self, word: str) -> str:
        if word in self._known or len(word) < 4 or not word.isalpha():
            return word
        slips = 1 if len(word) < 7 else 2
        found = process.extractOne(
            word, self._vocabulary, scorer=DamerauLevenshtein.distance, score_cutoff=slips
        )
        return found[0] if found else word

    def __call__(self, text: str) -> str:
        spelt_out = _NUMBER_ABBREVIATED.sub(r"\1number", text or "")
        spelt_out = _INITIALS_RE.sub(lambda m: _INITIALS[m.group(0)], spelt_out)
        said = normalise(_EMOJI_RE.sub(lambda m: _EMOJI[m.group(0)], spelt_out))
        words = " ".join(_SPEAK.get(word, word) for word in said.split()).split()
        return " ".join(self._correct(word) for word in words)


def example_words(texts: list[str]) -> frozenset[str]:
    """The words slips are put right to: every word of the examples (normalised, text-speak
    expanded) but a writer's own slip of a common one ("chek", one example, against "check" in
    hundreds), which would otherwise stop the same slip being put right. A rare word is kept
    otherwise: the writers' real words ("bairns", "sabbatical") must not be put right into
    others."""
    documents: Counter[str] = Counter()
    for text in texts:
        documents.update(set(" ".join(_SPEAK.get(w, w) for w in normalise(text).split()).split()))
    common = sorted(word for word, count in documents.items() if count >= COMMON_WORD)
    known = _known_words()

    def a_slip(word: str, count: int) -> bool:
        if count > 2 or word in known or len(word) < 4 or not word.isalpha():
            return False
        return bool(
            process.extractOne(word, common, scorer=DamerauLevenshtein.distance, score_cutoff=1)
        )

    return frozenset(word for word, count in documents.items() if not a_slip(word, count))


def acts_on_a_guess(command: Command) -> bool:
    """Whether a sure reading may run the command: read-only, undone by one word, asks before
    it changes anything, or makes something only the person sees in their own chat (export).
    The admins' commands are asked about first."""
    return (
        not command.changes_state
        or command.undoable
        or command.asks_first
        or command.private_result
    )


def asks_the_bot(reading: Reading, table: CommandTable, said: str = "") -> bool:
    """Whether the step is sure the message asks for one of the bot's own commands: the crisis
    check then needs its model surer before it raises the alarm alone, as for talk to the bot
    (signposting/crisis.py `detect`). Phrases still fire, and a serious one (a plan, a
    goodbye) keeps the usual bar. Not for the commands people in trouble ask with
    (`Command.asked_for_in_trouble`: help, support, urgent help), nor for an unsure guess. On
    the burned blind sets u1-u14 (no risk), 10 of the 38 crisis cards the model raised alone go
    ("retiring in march, I don't need the weekly check-in anymore, cancel it"); no risk message
    of c1-c24 loses its card; on u15-u16, scored once, 8 cards became 5.

    A request to be left alone (`said` is the message) counts when it has more than one
    clause: despair beside it ("go away, can't do this anymore") is then read in its own
    clause, which takes the raised bar away. In one clause there is nothing to read apart
    ("leave me alone i'm at breaking point"), and people in trouble say it, so the usual bar
    stays."""
    if reading.outcome not in (SURE, CONFIRM):
        return False
    if reading.intent == LEAVE_ALONE:
        return bool(parts(said, 1))
    command = table.get(reading.intent)
    return command is not None and not command.asked_for_in_trouble


@dataclass(frozen=True)
class Probabilities:
    """The classifier's reading of one message: intents best first, with probabilities."""

    ranked: tuple[str, ...]
    values: tuple[float, ...]


class Understanding:
    """The command table and the intent model together; `read` says what one message meant.
    The model is checked against the table when this is built (dialogs/intent_model.py)."""

    def __init__(self, table: CommandTable, model: IntentModel | None = None) -> None:
        self.table = table
        self.commands = {c.name: c for c in guessable_commands(table)}
        self.model = model or intent_model.shipped()
        self.model.check(table, intent_model.examples_for(table))
        self.thresholds = self.model.thresholds
        self.clean = Cleaner(self.model.words)
        self._probabilities = lru_cache(maxsize=512)(self._classify)
        """Readings kept for texts seen again (the threshold search reads each many times)."""

    def _classify(self, said: str, asks: bool) -> Probabilities:
        values = self.model.probabilities(said, asks, sentence_encoder.vector(said))
        order = np.argsort(-values)
        return Probabilities(
            tuple(self.model.intents[i] for i in order), tuple(float(values[i]) for i in order)
        )

    def forget(self) -> None:
        """Drop the readings kept for repeated texts (a benchmark's cold start)."""
        self._probabilities.cache_clear()

    def probabilities(self, text: str) -> Probabilities:
        """Every intent's probability for a message, best first."""
        return self._probabilities(self.clean(text), "?" in text)

    def read(self, text: str, *, in_dialog: bool = False) -> Reading:
        """What the message meant. The table's own words act (`exact`); so do its words
        after tidying ("pasue", "can you resume please"), as far as a guess may. Otherwise the
        classifier: sure above the thresholds, unsure between, nothing below. In a dialog only
        a read-only command the classifier is all but certain of counts (a note about the week
        is not a command); everything else is left to the dialog."""
        found = self.interpret(text, in_dialog=in_dialog)
        if isinstance(found, Reading):
            return found
        read, said = found
        whole = self.decide(read, said, in_dialog=in_dialog)
        if whole.sure or in_dialog:
            return whole
        return self._by_sentence(text, whole)

    def _by_sentence(self, text: str, whole: Reading) -> Reading:
        """A long message read a sentence at a time, when the whole left the step unsure: the
        request is usually one sentence and the rest is the week around it ("Right. I've
        finally finished the minutes from the Cabinet meeting... I'd like to do my wellbeing
        check for this week now please"), which dilutes the reading of the whole. One sentence
        read sure as the command the whole already leaned towards (its likeliest intent) is
        taken, and only a command that changes nothing: a sentence read alone loses what the
        others say ("I don't want to stop them completely" inside a request to pause), so
        stop, pause and the rest stay a question. Taking a sentence's command when it was
        only among the whole's closest readings acted on 0.4 points more of the burned sets
        but did 0.1 points more wrong ("how do I get in touch with the staff support
        coordinator?" read as `my requests`). Sentences are read only when the whole leans
        towards such a command: nothing else could be taken, and the encoder is the cost."""
        command = self.commands.get(whole.intent)
        if command is None or command.changes_state:
            return whole
        sentences = [part for part in _SENTENCE.split(text) if len(part.split()) >= 3]
        if len(sentences) < 2:
            return whole
        sure = {
            reading.intent: reading
            for reading in map(self.read, sentences)
            if reading.sure and reading.intent in self.commands
        }
        if len(sure) != 1:
            return whole
        [(intent, reading)] = sure.items()
        return reading if intent == whole.intent else whole

    def interpret(
        self, text: str, *, in_dialog: bool = False
    ) -> Reading | tuple[Probabilities, str]:
        """Everything `read` does before the thresholds: a reading the table's words settle,
        or the classifier's probabilities and the tidied text (the training script chooses
        thresholds on these without reading each message again)."""
        match = self.table.match(text)
        if match is not None:
            argument = match.argument if without_padding(match.argument) else ""
            found = argument_for(match.command, self.clean(argument)) if argument else ""
            if found and set_apart(text, argument):
                # "pause. off for 2 wks": the length after the break. Words after a break that
                # name none ("pause - no, never mind", "faq: how many days...") stay the
                # command's own argument, for its handler to read or refuse.
                return Reading(match.command.name, found, SURE, (match.command.name,), 1.0)
            weeks = weeks_meant(match.command, argument, self.clean(argument))
            if weeks:
                return Reading(match.command.name, weeks, SURE, (match.command.name,), 1.0)
            month = month_meant(match.command, argument, self.clean(argument))
            if month:
                return Reading(match.command.name, month, SURE, (match.command.name,), 1.0)
            if no_length(match.command, argument):
                said = self.clean(text)
                other = self.decide(
                    self._probabilities(said, "?" in text), said, in_dialog=in_dialog
                )
                if other.sure and other.intent not in (match.command.name, NONE):
                    return other
            return Reading(match.command.name, argument, SURE, (match.command.name,), 1.0, True)
        said = self.clean(text)
        if not said:
            return NOTHING_READ
        match = self.table.match(said) or self.table.match(_PADDING.sub("", said))
        if match is not None and match.command.name in self.commands:
            command = match.command
            argument = argument_for(command, said) if match.argument else ""
            if in_dialog and command.changes_state:
                return NOTHING_READ
            outcome = SURE if acts_on_a_guess(command) else CONFIRM
            if length_unread(command.name, argument, said):
                outcome = UNSURE
            return Reading(command.name, argument, outcome, (command.name,), 1.0)
        return self._probabilities(said, "?" in text), said

    def decide(self, read: Probabilities, said: str, *, in_dialog: bool = False) -> Reading:
        """The outcome of the classifier's reading of a tidied message, by the thresholds."""
        best, top = read.ranked[0], read.values[0]
        runner_up = read.values[1]
        closest = tuple(
            name
            for name, value in zip(read.ranked[:3], read.values[:3], strict=True)
            if value >= CLOSE_ENOUGH and name != NONE
        )
        command = self.commands.get(best)
        argument = argument_for(command, said) if command else ""
        if best == LEAVE_ALONE:
            weeks = weeks_in(said)
            argument = f"{weeks} weeks" if weeks else ""
        limits = self.thresholds
        changing = best == LEAVE_ALONE or bool(command and command.changes_state)
        if in_dialog:
            sure = command and not command.changes_state and top >= limits.in_dialog
            outcome = SURE if sure else NOTHING
        elif best == NONE or top < limits.ask:
            outcome = NOTHING
        elif top >= (limits.act_changing if changing else limits.act) and (
            top - runner_up >= limits.margin
        ):
            outcome = CONFIRM if command and not acts_on_a_guess(command) else SURE
            if length_unread(best, argument, said) or (changing and too_short_to_change(said)):
                outcome = UNSURE
            if command and said_not_to(command, said):
                outcome = UNSURE
        else:
            outcome = UNSURE
        return Reading(best, argument, outcome, closest, round(top, 4))


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
