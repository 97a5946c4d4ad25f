"""The small phrase language that need and crisis rules are written in, and its matcher.

Rules are data, so they need a language a wellbeing lead can read. A phrase is words separated
by spaces, matched against the message's words after normalisation (lower case, apostrophes
dropped so "can't" is "cant", hyphens and other punctuation as spaces, laughing emoji as
"lol", common chat spellings mapped). In a phrase:

- `a|b|c`          any one of these words
- `(a b|c d|e)`    any one of these word sequences
- `[a|b c]`        the same, optional
- `word*`          any word starting with `word`
- `..`             a gap of up to three words (never across a full stop, comma or other break)
- `...`            a gap of any length, across breaks too: both parts somewhere in the message,
                   in this order ("cant do this anymore ... goodbye")
- `~word`          this word, or a word one typing slip away from it
- `a & b`          both parts somewhere in the message, in any order and not on the same words
                   ("pills & in front of me"); the match is where the first part is, the
                   others are conditions. Used for a risk word that needs a second cue.
- `@name`          a word list (below): its choices, wherever a choice can stand, as in
                   `took (@medicines)`, `[@medicines]`, `(@medicines|doses)`, `@medicines`

So `passed away` is two words in a row, `lost my|our dad` matches "lost my dad" and "lost our
dad", and `(passed away|passed on)` matches either pair.

Word lists keep a long choice that many rules share (the medicines, the people who may hurt
someone) in one place, so that one edit reaches every rule that uses it. They are defined in the
support config's `word_lists` (core/data/support-defaults.yaml; an organisation adds or
replaces lists by name), each a name and its choices written as inside `( )`:
`medicines: tablet|tablets|sleeping pills|parac*|~sertraline`. A list may name other lists
(`@painkillers|@sleepers|insulin`), never itself. A reference stands for a whole choice: not
one word of a sequence (write `took (@medicines)`, not `(took @medicines)`), and with no `~` or
`*` of its own (put those on the list's words). In YAML, quote a phrase that starts with a list
(`"@medicines & in front of me"`): YAML reserves `@` at the start of a value.

A list is written out once, when the rules are loaded (`expand_lists`), into exactly the text a
person would have typed: `took (@medicines)` becomes `took (tablet|tablets|sleeping pills|...)`,
and a bare `@medicines` becomes `tablet|tablets|...`, bracketed when a choice has several
words. So a rule with a list matches, and explains a match, as if the list were typed into it,
and matching a message costs nothing more.

A typing slip is a letter missed, added or changed, or two letters swapped. Typo tolerance is
asked for word by word (`~stressed`, `~bereave*`), only on distinctive words of at least
`fuzzy_min_length` letters: one slip turns many ordinary words into others ("betting" and
"getting"), so it is kept for words where that cannot happen. A shorter `~word` of four or
more letters allows only two neighbouring letters swapped ("wnat" for "want"), the commonest
slip on a phone and the one least likely to make another word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

BREAK = "|"
GAP_WORDS = 3
SWAP_MIN = 4
AND = "&"
_CLAUSE_PUNCTUATION = re.compile(r"[.,;:!?()\[\]{}\n\r\t\"“”]+|\s-\s|\s–\s|\s—\s")
_NOT_WORD = re.compile(r"[^\w|]+|_")
_WORD = re.compile(r"^[a-z0-9]+$")
_EXPANSIONS = {"'s": "", "'ll": " will"}
# Laughing emoji read as the word "lol", so a joke marked with one is read like one marked "lol".
_LAUGHING = re.compile("[\U0001f602\U0001f923\U0001f606\U0001f639]")
_CONTRACTIONS = re.compile(r"(?<=\w)('s|'ll)(?!\w)")
LIST = "@"
_LIST_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REFERENCE = re.compile(r"^@([a-z][a-z0-9_]*)$")
# A phrase's positions as written, as `_parts` reads them: a bracketed group, or a run of text
# up to a space or an opening bracket.
_CHUNK = re.compile(r"\([^)]*\)|\[[^\]]*\]|[^\s(\[]+")
_WHOLE_CHOICE = (
    "a word list stands for a whole choice, with no '~' or '*' and no other words beside it "
    "in the same choice (write 'took (@medicines)', not '(took @medicines)')"
)


class PhraseError(ValueError):
    """A rule phrase that cannot be understood; the message says which part and why."""


class WordListError(PhraseError):
    """A word list that cannot be used; `name` is the list, so the config can point at it."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class Alternative:
    word: str
    prefix: bool = False
    fuzzy: bool = False


@dataclass(frozen=True)
class Element:
    """One position in a phrase: a choice of word sequences, optional or not, or a gap."""

    options: tuple[tuple[Alternative, ...], ...] = ()
    optional: bool = False
    gap: bool = False
    wide: bool = False
    """A gap of any length (`...`), crossing clause breaks."""


@dataclass(frozen=True)
class Phrase:
    """A compiled phrase; `text` is what the rule says, used to explain a match.

    `conditions` are the further parts of an `a & b` phrase: each must match somewhere else in
    the message for the phrase to match where its `elements` do."""

    text: str
    elements: tuple[Element, ...]
    conditions: tuple[tuple[Element, ...], ...] = ()
    needs: tuple[tuple[frozenset[str], ...], ...] = ()
    """A quick necessary test, from the positions spelled with plain words only: for each,
    the word sets of its choices; one set must be wholly among the message's words."""
    starts: frozenset[str] | None = None
    """The plain words the match can begin with, when its first position is plain."""

    def could_match(self, present: frozenset[str] | set[str]) -> bool:
        return all(any(words <= present for words in choice) for choice in self.needs)


def _plain_choices(element: Element) -> tuple[frozenset[str], ...] | None:
    """The word sets of a required position spelled in plain words (no `*`, no `~`), else None."""
    if element.gap or element.optional:
        return None
    if any(alt.prefix or alt.fuzzy for option in element.options for alt in option):
        return None
    return tuple(frozenset(alt.word for alt in option) for option in element.options)


def _with_shortcuts(
    text: str, elements: tuple[Element, ...], conditions: tuple[tuple[Element, ...], ...] = ()
) -> Phrase:
    needs = tuple(
        choice
        for part in (elements, *conditions)
        for element in part
        if (choice := _plain_choices(element)) is not None
    )
    first = _plain_choices(elements[0])
    starts = frozenset(option[0].word for option in elements[0].options) if first else None
    return Phrase(text, elements, conditions, needs, starts)


@dataclass(frozen=True)
class Span:
    """Where a phrase matched, in word positions [start, end)."""

    phrase: Phrase
    start: int
    end: int

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def _plain(word: str) -> str:
    word = unicodedata.normalize("NFKC", word).lower().replace("\u2019", "'").replace("'", "")
    return word


def _alternative(raw: str, part: str, text: str) -> Alternative:
    if LIST in raw:
        raise PhraseError(
            f"{part!r} in {text!r}: {raw!r} is a word list that was not written out here "
            "(word lists are defined, and written out, in the support config's `word_lists`)"
        )
    fuzzy = raw.startswith("~")
    raw = raw.removeprefix("~")
    prefix = raw.endswith("*")
    word = _plain(raw.removesuffix("*"))
    if not _WORD.match(word):
        raise PhraseError(
            f"{part!r} in {text!r}: write each word as letters and digits only "
            "(spell 'self-harm' as 'self harm')"
        )
    return Alternative(word, prefix, fuzzy)


def _parts(text: str) -> list[str]:
    """Split a phrase into its positions: words, `a|b` choices, and bracketed groups."""
    parts: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if char in "([":
            close = ")" if char == "(" else "]"
            end = text.find(close, index)
            if end < 0:
                raise PhraseError(f"{text!r}: {char!r} is never closed with {close!r}")
            parts.append(text[index : end + 1])
            index = end + 1
            continue
        end = index
        while end < len(text) and not text[end].isspace() and text[end] not in "([":
            end += 1
        parts.append(text[index:end])
        index = end
    return parts


def compile_phrase(text: str) -> Phrase:
    """Parse one rule phrase, raising PhraseError naming the part that is wrong."""
    if AND in text:
        pieces = text.split(AND)
        if any(not piece.strip() for piece in pieces):
            raise PhraseError(f"{text!r}: '&' goes between two parts, each with words")
        head, *rest = (_elements(piece.strip(), text) for piece in pieces)
        return _with_shortcuts(text, head, tuple(rest))
    return _with_shortcuts(text, _elements(text, text))


def _elements(part_text: str, text: str) -> tuple[Element, ...]:
    """The positions of one phrase (or one part of an `a & b` phrase)."""
    parts = _parts(part_text)
    if not parts:
        raise PhraseError("an empty phrase matches nothing")
    elements: list[Element] = []
    for part in parts:
        if part == "..":
            elements.append(Element(gap=True))
            continue
        if part == "...":
            elements.append(Element(gap=True, wide=True))
            continue
        optional = part.startswith("[")
        grouped = part.startswith(("(", "["))
        body = part[1:-1] if grouped else part
        if any(mark in body for mark in "()[]"):
            raise PhraseError(f"{part!r} in {text!r}: brackets cannot be nested")
        options: list[tuple[Alternative, ...]] = []
        for option in body.split("|"):
            sequence = option.split() if grouped else [option]
            if not sequence or not all(sequence):
                raise PhraseError(f"{part!r} in {text!r} has an empty choice")
            options.append(tuple(_alternative(raw, part, text) for raw in sequence))
        elements.append(Element(tuple(options), optional))
    if all(element.gap or element.optional for element in elements):
        raise PhraseError(f"{text!r} has no required word, so it would match anything")
    if elements[0].gap or elements[-1].gap:
        raise PhraseError(f"{text!r}: a gap ('..', '...') goes between words, not at either end")
    return tuple(elements)


@lru_cache(maxsize=4096)
def cached_phrase(text: str) -> Phrase:
    return compile_phrase(text)


def _unknown(name: str, known: Iterable[str]) -> str:
    return f"no word list is named {name!r} (word lists: {', '.join(sorted(known)) or 'none'})"


def word_lists(definitions: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """Each named list as its choices, with the lists it names written out, for `expand_lists`.

    Checked whole when the rules load, so a broken list stops the bot naming the list: a name
    that is not an id, an empty list or choice, a word the language cannot match, a list named
    that does not exist, or a list that names itself (directly or through others)."""
    resolved: dict[str, tuple[str, ...]] = {}
    for name in definitions:
        if not isinstance(name, str) or not _LIST_NAME.match(name):
            raise WordListError(
                str(name), f"{name!r} is not a list name (lower case letters, digits and _)"
            )
        _resolve_list(name, definitions, resolved, ())
    return resolved


def _resolve_list(
    name: str,
    definitions: Mapping[str, str],
    resolved: dict[str, tuple[str, ...]],
    path: tuple[str, ...],
) -> tuple[str, ...]:
    """One list's choices; `path` is the lists being written out that led here, to see loops."""
    if name in resolved:
        return resolved[name]
    if name in path:
        loop = " -> ".join(f"@{step}" for step in (*path[path.index(name) :], name))
        raise WordListError(name, f"the list refers to itself ({loop})")
    text = definitions[name]
    if not isinstance(text, str):
        raise WordListError(name, "write the list as one choice, `a|b c|d*`, not a YAML list")
    if not text.strip():
        raise WordListError(name, "the list is empty: write its words as a choice, `a|b c|d*`")
    choices: list[str] = []
    for option in text.split("|"):
        sequence = option.split()
        if not sequence:
            raise WordListError(name, f"{text!r} has an empty choice")
        reference = _REFERENCE.match(option.strip())
        if reference is not None:
            other = reference.group(1)
            if other not in definitions:
                raise WordListError(name, f"{option.strip()!r}: {_unknown(other, definitions)}")
            choices += _resolve_list(other, definitions, resolved, (*path, name))
            continue
        if LIST in option:
            raise WordListError(name, f"{option.strip()!r}: {_WHOLE_CHOICE}")
        try:
            for raw in sequence:
                _alternative(raw, option.strip(), f"@{name}")
        except PhraseError as error:
            raise WordListError(name, str(error)) from error
        choices.append(" ".join(sequence))
    resolved[name] = tuple(choices)
    return resolved[name]


def expand_lists(text: str, lists: Mapping[str, tuple[str, ...]]) -> str:
    """The phrase with each `@name` written out as the choice it stands for (`lists` from
    `word_lists`), so that it compiles exactly as if the list had been typed into it. Done once,
    when the rules load; a phrase without `@` comes back unchanged."""
    if LIST not in text:
        return text
    return AND.join(
        _CHUNK.sub(lambda chunk: _expand_chunk(chunk.group(), text, lists), piece)
        for piece in text.split(AND)
    )


def _expand_chunk(chunk: str, text: str, lists: Mapping[str, tuple[str, ...]]) -> str:
    """One position with its references written out; bare, it is bracketed when a list has a
    choice of several words (`a|b` and `(a|b)` compile alike)."""
    if LIST not in chunk:
        return chunk
    grouped = chunk.startswith(("(", "["))
    body = chunk[1:-1] if grouped else chunk
    choices: list[str] = []
    for option in body.split("|"):
        if LIST not in option:
            choices.append(option)
            continue
        reference = _REFERENCE.match(option.strip())
        if reference is None:
            raise PhraseError(f"{option.strip()!r} in {text!r}: {_WHOLE_CHOICE}")
        name = reference.group(1)
        if name not in lists:
            raise PhraseError(f"{option.strip()!r} in {text!r}: {_unknown(name, lists)}")
        choices += lists[name]
    written = "|".join(choices)
    if grouped:
        return chunk[0] + written + chunk[-1]
    return f"({written})" if any(" " in choice for choice in choices) else written


def within_one_edit(a: str, b: str) -> bool:
    """Whether two words differ by at most one slip: a letter missed, added, changed or swapped."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _swapped(a: str, b: str) -> bool:
    """Whether two words of the same length differ by two neighbouring letters swapped."""
    if len(a) != len(b):
        return False
    diffs = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and a[diffs[0]] == b[diffs[1]]
        and a[diffs[1]] == b[diffs[0]]
    )


def _word_matches(alternative: Alternative, token: str, fuzzy_min: int) -> bool:
    word = alternative.word
    if alternative.prefix:
        if token.startswith(word):
            return True
        if not alternative.fuzzy or len(word) < fuzzy_min:
            return False
        return any(
            within_one_edit(word, token[:size])
            for size in (len(word) - 1, len(word), len(word) + 1)
            if size <= len(token)
        )
    if token == word:
        return True
    if not alternative.fuzzy or len(word) < SWAP_MIN:
        return False
    if len(word) < fuzzy_min:
        return _swapped(word, token)
    return within_one_edit(word, token)


def _ends(
    elements: Sequence[Element], tokens: Sequence[str], at: int, fuzzy_min: int
) -> Iterator[int]:
    """Every end position where `elements` can match starting at word `at` (shortest first)."""
    if not elements:
        yield at
        return
    element, rest = elements[0], elements[1:]
    if element.gap and element.wide:
        for skip in range(len(tokens) - at + 1):
            yield from _ends(rest, tokens, at + skip, fuzzy_min)
        return
    if element.gap:
        for skip in range(GAP_WORDS + 1):
            if skip and (at + skip > len(tokens) or tokens[at + skip - 1] == BREAK):
                break
            yield from _ends(rest, tokens, at + skip, fuzzy_min)
        return
    if element.optional:
        yield from _ends(rest, tokens, at, fuzzy_min)
    for option in element.options:
        end = at + len(option)
        if end <= len(tokens) and all(
            tokens[at + i] != BREAK and _word_matches(word, tokens[at + i], fuzzy_min)
            for i, word in enumerate(option)
        ):
            yield from _ends(rest, tokens, end, fuzzy_min)


def _places(
    elements: Sequence[Element],
    tokens: Sequence[str],
    fuzzy_min: int,
    starts: frozenset[str] | None = None,
) -> list[tuple[int, int]]:
    """Every (start, end) where `elements` match (one per start word, the shortest)."""
    places: list[tuple[int, int]] = []
    for start in range(len(tokens)):
        if tokens[start] == BREAK or (starts is not None and tokens[start] not in starts):
            continue
        end = next(_ends(elements, tokens, start, fuzzy_min), None)
        if end is not None and end > start:
            places.append((start, end))
    return places


def find(phrase: Phrase, tokens: Sequence[str], fuzzy_min: int) -> list[Span]:
    """Every place the phrase matches (one span per start word, the shortest). An `a & b`
    phrase matches where `a` does, when every other part matches on other words."""
    if phrase.needs and not phrase.could_match(set(tokens)):
        return []
    places = _places(phrase.elements, tokens, fuzzy_min, phrase.starts)
    if places and phrase.conditions:
        found = [_places(condition, tokens, fuzzy_min) for condition in phrase.conditions]
        places = [
            (start, end)
            for start, end in places
            if all(
                any(other_end <= start or end <= other_start for other_start, other_end in where)
                for where in found
            )
        ]
    return [Span(phrase, start, end) for start, end in places]


@lru_cache(maxsize=64)
def _spelling_pattern(items: tuple[tuple[str, str], ...]) -> re.Pattern[str] | None:
    if not items:
        return None
    keys = sorted((key for key, _ in items), key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(k) for k in keys) + r")(?![\w])")


def words(text: str, spellings: Mapping[str, str] | None = None) -> list[str]:
    """The message as normalised words, with `|` standing for a clause break (. , ; ! ? …)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _LAUGHING.sub(" lol ", text)
    text = _CLAUSE_PUNCTUATION.sub(f" {BREAK} ", text)
    text = _CONTRACTIONS.sub(lambda m: _EXPANSIONS[m.group(1)], text)
    text = text.replace("'", "")
    text = _NOT_WORD.sub(" ", text)
    text = " ".join(text.split())
    if spellings:
        pattern = _spelling_pattern(tuple(sorted(spellings.items())))
        if pattern is not None:
            text = pattern.sub(lambda m: spellings[m.group(1)], text)
    tokens: list[str] = []
    for token in text.split():
        if token == BREAK and (not tokens or tokens[-1] == BREAK):
            continue
        tokens.append(token)
    while tokens and tokens[-1] == BREAK:
        tokens.pop()
    return tokens
