"""Recognising support needs in free text, with rules that explain themselves.

Every need found says which of its phrases matched, so a wellbeing lead can see why the bot
offered what it did and change the rules (they are data, in the `support` config section).
Several needs at once is normal; a negated phrase ("not stressed") does not count; a phrase
inside one of the need's `not_when` phrases ("my phone died") does not count; a weak phrase
("tired", "someone to talk to") counts only when nothing more specific was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.config.supportconfig import Detection, Need, SupportConfig
from core.phrases import BREAK, Span, cached_phrase, find, words


@dataclass(frozen=True)
class NeedMatch:
    """A need recognised in a message, and the rule phrase that recognised it."""

    need: str
    phrase: str
    weak: bool = False


@dataclass(frozen=True)
class Finding:
    """One phrase match and what became of it, for explaining a result in full."""

    need: str
    phrase: str
    matched: str
    outcome: str
    """counted, weak, negated, or cancelled by a `not_when` phrase (named)."""


def negated(tokens: Sequence[str], start: int, detection: Detection) -> bool:
    """Whether a negator stands shortly before `start`, with only filler words between."""
    negators, fillers = set(detection.negators), set(detection.fillers)
    position = start - 1
    for _ in range(detection.negation_window):
        if position < 0:
            return False
        token = tokens[position]
        if token == BREAK:
            return False
        if token in negators:
            return True
        if token not in fillers:
            return False
        position -= 1
    return False


def _spans(phrases: Sequence[str], tokens: Sequence[str], fuzzy_min: int) -> list[Span]:
    spans: list[Span] = []
    for text in phrases:
        spans += find(cached_phrase(text), tokens, fuzzy_min)
    return spans


def _judge(need: Need, tokens: Sequence[str], detection: Detection) -> list[tuple[Span, bool, str]]:
    """Every match of the need's phrases: (span, weak, outcome)."""
    fuzzy = detection.fuzzy_min_length
    cancels = _spans(need.not_when, tokens, fuzzy)
    judged: list[tuple[Span, bool, str]] = []
    for weak, phrases in ((False, need.phrases), (True, need.weak_phrases)):
        for span in _spans(phrases, tokens, fuzzy):
            cancel = next((c for c in cancels if c.overlaps(span)), None)
            if cancel is not None:
                outcome = f"cancelled by {cancel.phrase.text!r}"
            elif negated(tokens, span.start, detection):
                outcome = "negated"
            else:
                outcome = "weak" if weak else "counted"
            judged.append((span, weak, outcome))
    return judged


def explain(text: str, support: SupportConfig) -> list[Finding]:
    """Every phrase that matched the text and whether it counted: for tuning and bench reports."""
    tokens = words(text, support.detection.spellings)
    findings: list[Finding] = []
    for need in support.needs:
        for span, _weak, outcome in _judge(need, tokens, support.detection):
            findings.append(
                Finding(need.id, span.phrase.text, " ".join(tokens[span.start : span.end]), outcome)
            )
    return findings


def detect_needs(text: str, support: SupportConfig) -> list[NeedMatch]:
    """The needs the text speaks of, in support-menu order, each with the phrase that showed it."""
    tokens = words(text, support.detection.spellings)
    strong: list[NeedMatch] = []
    weak: list[NeedMatch] = []
    for need in support.needs:
        judged = _judge(need, tokens, support.detection)
        hit = next((s for s, _w, outcome in judged if outcome == "counted"), None)
        if hit is not None:
            strong.append(NeedMatch(need.id, hit.phrase.text))
            continue
        soft = next((s for s, _w, outcome in judged if outcome == "weak"), None)
        if soft is not None:
            weak.append(NeedMatch(need.id, soft.phrase.text, weak=True))
    return strong or weak
