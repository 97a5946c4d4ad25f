"""Recognising risk to life or safety in what a person writes, before anything else happens.

Deliberately sensitive to a person speaking of themselves ("I want to end it all", "he hits
me"), with typos and in lower case; deliberately deaf to everyday idiom ("this rota is killing
me") and to talk about the subject ("is there suicide prevention training?"). Two readers
look at every message: phrases, which are data (the `support.crisis` config section) and say
exactly what they found, and a learned model (signposting/crisis_model.py) that catches wording
no phrase names. Either can raise the alarm; the model overrules a phrase only when it is all
but sure the message is about someone else or about policy. A signal carries the rule that
fired, never the text.

The check-in calls `detect_off_loop(text, support)` on its free text; every chat message goes
through the crisis stage in dialogs/support.py first, which also says whether the
understanding step is sure the message asks for one of the bot's own commands (`asks_the_bot`).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from itertools import pairwise
from typing import Literal

import numpy as np

from core import sentence_encoder
from core.config.supportconfig import CrisisModelSettings, SupportConfig
from core.phrases import BREAK, Span, cached_phrase, find, words
from signposting import crisis_model

Rule = Literal["phrases", "harm_phrases", "topic_phrases", "model"]
Kind = Literal["self", "emergency", "someone_else"]
"""Whose risk, and how close: the writer's own (`self`), happening now (`emergency`: 999 first),
or worry about another person (`someone_else`: the card for helpers)."""

# Words that may stand between a subject and what they say ("they just want to die").
_BETWEEN = frozenset(
    {
        "just",
        "really",
        "would",
        "d",
        "might",
        "also",
        "even",
        "actually",
        "still",
        "all",
        "may",
        "could",
        "said",
        "says",
        "say",
        "told",
        "tell",
        "tells",
        "do",
        "does",
        "did",
        "sometimes",
        "often",
        "apparently",
        "now",
        "both",
        "that",
        "is",
        "are",
        "was",
        "were",
        "has",
        "have",
        "had",
        "been",
        "being",
        "gets",
        "got",
        "getting",
        "keeps",
        "kept",
        "will",
        "going",
        "to",
        "thinks",
        "thought",
        "feels",
        "felt",
    }
)

# Words that make the writer part of what a harm phrase says ("he hits me", "my partner …"):
# such a phrase is the writer's own whoever stands before it.
_ACT_LOOKBACK = 3
_HEAD_ALONE = 0.6
"""The reading for someone else needed when no words name risk to them: at 0.4 a friend
stressed about exams got the card for helpers; at 0.6, 2% of ordinary worry about others did
(development halves of training sets p, q, r, s and t, fitted without them)."""
_FIRST_PERSON = frozenset(
    {"i", "im", "ive", "id", "ill", "me", "my", "mine", "myself", "us", "our", "we"}
)


@dataclass(frozen=True)
class CrisisSignal:
    """Why a message was taken as a crisis: the kind of rule, the phrase and whose risk it is.
    Never the text."""

    rule: Rule
    phrase: str
    kind: Kind = "self"


@lru_cache(maxsize=1)
def _default_support() -> SupportConfig:
    """The shipped rules, for callers that have no organisation config at hand."""
    return SupportConfig()


def _spans(phrases: Sequence[str], tokens: Sequence[str], fuzzy_min: int) -> list[Span]:
    spans: list[Span] = []
    for text in phrases:
        spans += find(cached_phrase(text), tokens, fuzzy_min)
    return spans


def _most_of(spans: Sequence[Span], word_count: int) -> bool:
    """Whether the spans cover at least half of the message's words."""
    covered = {i for span in spans for i in range(span.start, span.end)}
    return bool(covered) and 2 * len(covered) >= max(word_count, 1)


def _someone_else(tokens: Sequence[str], start: int, third_person: frozenset[str]) -> bool:
    """Whether the words just before a match make someone else its subject."""
    position = start - 1
    while position >= 0 and tokens[position] in _BETWEEN:
        position -= 1
    return position >= 0 and tokens[position] != BREAK and tokens[position] in third_person


@dataclass(frozen=True)
class PhraseReading:
    """What the phrases made of a message: the signal they raised, if any, and whether a joke
    marker ('lol') is in it and not taken back ('not joking')."""

    signal: CrisisSignal | None
    joke: bool
    words: int
    """How many words the message has."""
    someone_else: bool = False
    """Risk to another person is named: a risk phrase with someone else as its subject ("she
    wants to die") or one of `someone_else_phrases` ("cutting herself")."""
    request: bool = False
    """The message talks to or about the bot ("stop messaging me"), or asks for one of its
    commands in other words ("I'd like everything I've told you wiped"), and names nothing
    serious."""
    everyday: bool = False
    """Idiom (`support.crisis.idioms`: "cut myself shaving", "dying for a cig") is at least half
    the message and nothing serious is named in it: the everyday reading of a risk word."""
    said_of_self: bool = False
    """A serious phrase names the writer in its own words ("I want to join her", "I'm going the
    same way"): the model may not veto it, even beside someone else's death."""
    act_now: bool = False
    """A sign that it is happening now (`support.crisis.act_now`: "on the bridge", "feeling
    woozy", "i've done it"): a crisis for the writer then gets 999 first, with or without the
    model."""
    own_clause: bool = False
    """A clause in which a phrase fires, read alone, is risk to the model
    (`part_keeps_phrase`): what the rest of the message is about cannot veto it."""
    medicine: bool = False
    """A medicine is named in ordinary use (`support.crisis.medicine_talk`: "GP upped my
    sertraline", "took two co-codamol for my back") and nothing serious, nor a sign that it is
    happening now, is named anywhere in the message: the everyday reading of talk about
    tablets, which the model mistakes for an overdose. Named with no sign of ordinary use, a
    medicine leaves the usual bar: when in doubt, the reading that errs towards the card."""
    serious: bool = False
    """A serious phrase or an act is named ("sorted my affairs", "took a handful"), whether or
    not it fired: the raised bars and the long-message check step aside."""
    risk_in_part: bool = False
    """A clause read alone scores `part_raises_alarm`: risk diluted by what surrounds it
    ("can you pause my check-ins for a few weeks please, I've been sitting in the car with the
    hosepipe in the boot"), heard whatever the whole scores."""
    diffuse: bool = False
    """A long message (`long_words`) that the model scores as risk whole, with no part of it
    (a clause, or two side by side) reaching `long_part_threshold` read alone: a ramble about
    the week around a request, not a disclosure, which is told in a part of the message."""


def read_phrases(
    tokens: Sequence[str], support: SupportConfig, *, asks_the_bot: bool = False
) -> PhraseReading:
    """The phrases' reading of a message's words: an act in progress and being harmed first,
    then (unless it is a joke) the writer speaking of themselves, then the subject named outside
    talk about policy. A joke marker counts only when nothing serious is named: a method or
    means, a plan or a time, an act done or a goodbye ("tablets saved lol") is read as meant.
    `asks_the_bot`: the understanding step is sure the message asks for one of the bot's own
    commands; like talk to the bot, that counts only when nothing serious is named."""
    rules = support.crisis
    fuzzy = support.detection.fuzzy_min_length
    idioms = _spans(rules.idioms, tokens, fuzzy)
    third_person = frozenset(rules.third_person)

    def clear(span: Span) -> bool:
        """An idiom cancels a phrase it overlaps, unless the phrase carries on past its end
        ("my mum will kill me" is idiom; "he will kill me if I leave" is not)."""
        return not any(idiom.overlaps(span) and span.end <= idiom.end for idiom in idioms)

    def own(span: Span) -> bool:
        return clear(span) and not _someone_else(tokens, span.start, third_person)

    def own_act(span: Span) -> bool:
        """An act is the writer's unless someone else is named in it or just before it ("my
        mate just told me he's taken a load of pills", "she's taken an overdose, what do I
        do"); being harmed now ends in "me", and the person named is the one hurting them."""
        if tokens[span.end - 1] == "me" and span.phrase.text.endswith(" me"):
            return clear(span)
        nearby = tokens[max(0, span.start - _ACT_LOOKBACK) : span.end]
        return clear(span) and not third_person & set(nearby)

    named_acts = _spans(rules.act_phrases, tokens, fuzzy)
    named_serious = _spans(rules.serious_phrases, tokens, fuzzy)
    acts = [span for span in named_acts if own_act(span)]
    serious_spans = [span for span in named_serious if own(span)]
    serious = bool(acts) or bool(serious_spans)
    said_of_self = any(_FIRST_PERSON & set(tokens[span.start : span.end]) for span in serious_spans)
    joke = (
        bool(set(rules.joke_markers) & set(tokens))
        and not serious
        and not _spans(rules.joke_retractions, tokens, fuzzy)
    )
    # An idiom raises the model's bar only when it is most of the message and nothing serious
    # is named anywhere in it, cancelled or not: one harmless idiom ("the plan is") must not
    # shelter the rest of a message, nor hide a goodbye it happens to overlap.
    word_count = sum(token != BREAK for token in tokens)
    mostly_idiom = not named_serious and not named_acts and _most_of(idioms, word_count)
    # Talk to the bot likewise, only when it is most of the message: despair written around
    # "stop messaging me" or "remove me" must meet the usual bar, not the bot-talk one. A
    # message the understanding step is sure asks for a command ("can I see what I put last
    # month", "wipe everything you've got on me") is talk to the bot whatever its words.
    request = not serious and (
        asks_the_bot or _most_of(_spans(rules.request_context, tokens, fuzzy), word_count)
    )
    now = _spans(rules.act_now, tokens, fuzzy)
    medicine = (
        not named_serious
        and not named_acts
        and not now
        and bool(_spans(rules.medicine_talk, tokens, fuzzy))
    )
    someone_else = bool(_spans(rules.someone_else_phrases, tokens, fuzzy))
    act_now = any(clear(span) for span in now)

    def reading(signal: CrisisSignal | None) -> PhraseReading:
        if signal is not None and act_now:
            signal = replace(signal, kind="emergency")
        return PhraseReading(
            signal,
            joke,
            word_count,
            someone_else,
            request,
            mostly_idiom,
            said_of_self,
            act_now,
            medicine=medicine,
            serious=serious,
        )

    if acts:
        return reading(CrisisSignal("phrases", acts[0].phrase.text, "emergency"))
    for span in _spans(rules.harm_phrases, tokens, fuzzy):
        # The writer is who is harmed unless nothing in the match says so ("being abused") and
        # the words before it name someone else ("a colleague is being abused").
        named = (
            _FIRST_PERSON & set(tokens[span.start : span.end]) or tokens[span.start] in third_person
        )
        if clear(span) and (named or not _someone_else(tokens, span.start, third_person)):
            return reading(CrisisSignal("harm_phrases", span.phrase.text))
        someone_else = someone_else or clear(span)
    if joke:
        return reading(None)
    for span in _spans(rules.phrases, tokens, fuzzy):
        if own(span):
            return reading(CrisisSignal("phrases", span.phrase.text))
        someone_else = someone_else or clear(span)
    topics = _spans(rules.topic_phrases, tokens, fuzzy)
    if topics and not _spans(rules.policy_context, tokens, fuzzy):
        for span in topics:
            if own(span):
                return reading(CrisisSignal("topic_phrases", span.phrase.text))
    return reading(None)


def detect(
    text: str,
    support: SupportConfig | None = None,
    *,
    use_model: bool = True,
    asks_the_bot: bool = False,
) -> CrisisSignal | None:
    """A crisis signal when the text speaks of risk to the writer's life or safety, else None.

    `support` is the organisation's `support` config section; without it the shipped rules
    apply. The phrases and the learned model (if enabled) are both asked: a phrase that fires
    stands unless the model is all but sure the message is about someone else or about policy
    (`veto_below`); otherwise the model fires on its own at `threshold` (at `joke_threshold`
    when a joke marker such as "lol" or 😂 is not taken back), unless the message is too short
    to judge. `use_model=False` asks the phrases alone, for measuring them. `asks_the_bot`
    (the understanding step is sure the message asks for one of the bot's commands) raises the
    model's bar as talk to the bot does (`request_threshold`); phrases fire as ever.
    """
    support = support or _default_support()
    tokens = words(text, support.detection.spellings)
    if not tokens:
        return None
    phrases = read_phrases(tokens, support, asks_the_bot=asks_the_bot)
    settings = support.crisis.model
    if not (use_model and settings.enabled and needs_score(phrases, settings)):
        return phrases.signal
    model = crisis_model.shipped()
    score, readings = model_readings(model, text)
    # A request or talk about medicines pulls down the score of a risk beside it ("delete my
    # data, I won't be around to need it after friday", "get mum's meds out, bus to work, cut
    # myself in the staff loo"): with a clause that is risk alone, the message is not only that.
    bar = _raised_bar(phrases, settings)
    quieted = phrases.signal is None and settings.threshold <= score < bar
    # The clauses are encoded at most once, and only when a bar or the kind depends on them.
    clauses = cache(lambda: _encoded(parts(text, settings.min_words)))
    best_clause = cache(
        lambda: max((model.score(part, vector) for part, vector in clauses()), default=0)
    )
    if quieted and best_clause() >= min(bar, settings.part_lifts_bar):
        phrases = replace(phrases, request=False, medicine=False)
    if phrases.signal is None and score < bar and best_clause() >= settings.part_raises_alarm:
        phrases = replace(phrases, risk_in_part=True)
    elif (
        phrases.signal is None
        and not phrases.serious
        and score >= settings.threshold
        and best_clause() < settings.long_part_threshold
        and _diffuse(text, model, settings)
    ):
        phrases = replace(phrases, diffuse=True)
    vetoed = phrases.signal is not None and score < settings.veto_below
    # Worry about someone else is the veto's own work ("my sister's been googling ways to die"):
    # the helpers' card, not the one for a person at risk.
    about_other = readings.get("someone_else", 0.0) >= settings.someone_else_threshold
    if vetoed and not phrases.said_of_self and not about_other:
        own_clause = _clause_is_risk(text, model, support, settings.part_keeps_phrase)
        phrases = replace(phrases, own_clause=own_clause)
    signal = verdict(phrases, score, readings, settings)
    if (
        signal is not None
        and signal.kind == "self"
        and _act_in_a_clause(clauses(), model, settings)
    ):
        signal = replace(signal, kind="emergency")
    return signal


def _act_in_a_clause(
    clauses: list[tuple[str, np.ndarray]],
    model: crisis_model.CrisisModel,
    settings: CrisisModelSettings,
) -> bool:
    """Whether a clause of a message that signals risk, read alone, is an act in progress
    (`act_part_threshold`): what surrounds an act dilutes the whole's share for it ("Wee bit
    of a confession. Took a load of paracetamol an hour ago, feelin weird noo": 0.82 for its
    second clause), and the person then got the listening lines first instead of 999. Read
    only once a message has raised the alarm.

    Measured on the burned blind sets c1-c34 and the long development set (8,065 messages):
    of 47 messages written as acts that got the card for a person at risk, 14 get 999 first
    at 0.6 (18 at 0.5); so do 32 other risk messages, most of them means to hand or harm by
    someone ("husband punched me again last night"), and 5 of the 358 no-risk messages that
    already had a card."""
    return any(
        model.kind_probabilities(clause, vector).get("act", 0.0) >= settings.act_part_threshold
        for clause, vector in clauses
    )


def _clause_is_risk(
    text: str,
    model: crisis_model.CrisisModel,
    support: SupportConfig,
    bar: float,
) -> bool:
    """Whether a clause of the message in which a phrase fires, read alone, scores `bar`. The
    clauses read for the other bars (`detect`) are read whatever they say. What surrounds a disclosure dilutes the whole message's score:
    work talk around a phrase makes the model veto it (then the bar is `part_keeps_phrase`),
    and a request beside it keeps the whole under the bar for talk to the bot (then the
    clause must reach `part_lifts_bar`, the request bar before it rose to 0.65).

    Measured on the burned blind sets c9-c20 and u11-u16 (3,000 messages the model never saw)
    and on 600 requests from u1-u14 joined to risk messages from c1-c14. Vetoes: 7 of the 8
    risk messages missed for a vetoed phrase are caught (clauses 0.87 or more), at one no-risk
    message ("no thoughts of harming myself, just exhausted"); clauses of ordinary talk score
    high alone too ("goodbye everyone" 0.68), hence the high bar. Requests: the raised bar
    alone lost 28 of the 560 joined messages the usual bar caught; clauses at the raised bar
    lose none, at 11 more no-risk cards ("goodbye for now, on leave for 2 weeks"); at 0.85
    they lost 10 ("ive drunk bleach" among them)."""
    read = [
        part
        for part in parts(text, 1)
        if (tokens := words(part, support.detection.spellings))
        and read_phrases(tokens, support).signal is not None
    ]
    return max(_part_scores(read, model), default=0) >= bar


def _encoded(passages: list[str]) -> list[tuple[str, np.ndarray]]:
    """Parts of a message with their vectors, encoded together: one call to the sentence
    encoder (a third cheaper than one call each)."""
    if not passages:
        return []
    return list(zip(passages, sentence_encoder.shipped().embed(passages), strict=True))


def _part_scores(passages: list[str], model: crisis_model.CrisisModel) -> list[float]:
    """The model's score for each part of a message read alone."""
    return [model.score(part, vector) for part, vector in _encoded(passages)]


def _diffuse(text: str, model: crisis_model.CrisisModel, settings: CrisisModelSettings) -> bool:
    """Whether a long message whose clauses carry no risk alone carries none in two clauses
    side by side either: no pair scores `long_part_threshold` read alone.

    The model was fitted on long messages that were nearly all disclosures, and scores long
    everyday ones high whole (0.6-1.0 for "the coffee machine on our floor has died, the lift's
    out", a week of debt around "sorry, not sure why I'm telling a bot"), while its reading of
    their parts stays low; a long message that carries risk carries it in a part. Measured on
    the burned blind sets c9-c29 and u11-u20 and the development sets of long messages (4,590
    no-risk and 2,129 risk messages the model never saw): of the messages of 30 words or more
    the model alone raised the alarm on, 20 of 169 without risk are quieted and none of 127
    with risk, whose best part scored 0.55 or more (at 25 words, one at 0.50). The clauses
    alone are read by `detect`, which needs them for other bars too; this reads the pairs."""
    if len(text.split()) < settings.long_words:
        return False
    clauses = parts(text, 1)
    if not clauses:
        return False
    pairs = [f"{first}. {second}" for first, second in pairwise(clauses)]
    return max(_part_scores(pairs, model), default=0) < settings.long_part_threshold


_PART_BREAK = re.compile(r"[.!?;,\n]+|\s[-–—]\s")


def parts(text: str, min_words: int) -> list[str]:
    """The clauses of a message with at least `min_words` words, when it has more than one
    clause (split at sentence ends, commas, semicolons and dashes). A short request counts as
    a clause though it is not returned: in "go away, can't do this anymore" the second clause
    is read alone."""
    clauses = [part.strip() for part in _PART_BREAK.split(text) if part.strip()]
    if len(clauses) < 2:
        return []
    return [part for part in clauses if len(part.split()) >= min_words]


def model_readings(
    model: crisis_model.CrisisModel, text: str, vector: np.ndarray | None = None
) -> tuple[float, dict[str, float]]:
    """What the model makes of a message: its score for the writer's own risk and the readings
    `with_kind` weighs (`vector` is the text's encoding if known, as when fitting)."""
    score = model.score(text, vector)
    readings = model.kind_probabilities(text, vector)
    if readings:
        readings["head_someone_else"] = readings["someone_else"]
        readings["someone_else"] = both_say(
            readings["someone_else"], model.someone_else_score(text, vector)
        )
    return score, readings


def verdict(
    phrases: PhraseReading,
    score: float,
    readings: Mapping[str, float],
    settings: CrisisModelSettings,
) -> CrisisSignal | None:
    """The signal and its kind from the phrases' and the model's readings: split from `detect`
    so the cross-check can try settings on readings it computed once."""
    return with_kind(combine(phrases, score, settings), phrases, score, readings, settings)


async def detect_off_loop(
    text: str, support: SupportConfig | None = None, *, asks_the_bot: bool = False
) -> CrisisSignal | None:
    """`detect` on a worker thread, for the bot's turns: the sentence encoder's few milliseconds
    run outside the event loop (onnxruntime releases the GIL), so other people's turns and the
    sender's timetable are not held up while one message is read."""
    return await asyncio.to_thread(detect, text, support, asks_the_bot=asks_the_bot)


def _raised_bar(phrases: PhraseReading, settings: CrisisModelSettings) -> float:
    """The model's bar raised by talk to the bot (`request_threshold`) or about medicines
    (`medicine_threshold`), which a clause that is risk alone takes away; `threshold` when the
    message is neither."""
    bar = settings.threshold
    if phrases.request:
        bar = max(bar, settings.request_threshold)
    if phrases.medicine:
        bar = max(bar, settings.medicine_threshold)
    return bar


def needs_score(phrases: PhraseReading, settings: CrisisModelSettings) -> bool:
    """Whether the verdict depends on the model's score: not when being harmed is named under
    a joke marker (that stands whatever the model says), nor when no phrase fired and the
    message is too short for the model to judge alone. Most typed commands are such short
    messages, so they skip the sentence encoder."""
    if phrases.signal is not None:
        return not (phrases.joke and phrases.signal.rule == "harm_phrases")
    return phrases.words >= settings.min_words


def combine(
    phrases: PhraseReading, score: float, settings: CrisisModelSettings
) -> CrisisSignal | None:
    """The verdict from both readers: a phrase stands unless the model's score is under
    `veto_below` and no serious phrase names the writer (`PhraseReading.said_of_self`); without
    one, the model raises it at `threshold` unless the message is too short for it to judge (a
    bare "stop" or "help" is a command, not a crisis). A joke marker raises the model's bar to
    `joke_threshold`, talk to the bot to `request_threshold`, talk about medicines to
    `medicine_threshold` and an idiom to `idiom_threshold`.
    A joke silences the phrases ("i want to die lol"), but people also laugh off what they mean
    ("lol i've literally picked the date").

    A joke marker never cancels being harmed by someone ("he hits me lol"), so the model's
    doubt, which a joke marker feeds, cannot either."""
    if not needs_score(phrases, settings):
        return phrases.signal
    if phrases.signal is not None:
        kept = score >= settings.veto_below or phrases.said_of_self or phrases.own_clause
        return phrases.signal if kept else None
    if phrases.risk_in_part:
        return CrisisSignal("model", "a clause read alone")
    bar = _raised_bar(phrases, settings)
    if phrases.joke:
        bar = max(bar, settings.joke_threshold)
    if phrases.everyday:
        bar = max(bar, settings.idiom_threshold)
    if score < bar or phrases.diffuse:
        return None
    return CrisisSignal("model", f"score at or above {bar}")


def both_say(by_meaning: float, by_words_and_meaning: float) -> float:
    """Two readers of "is this about someone else?", one on meaning alone, one on words and
    meaning: their geometric mean, so the card for helpers needs both to lean that way. With
    the plain mean, one reader alone sent "my mum will kill me if I'm late" to it."""
    return math.sqrt(by_meaning * by_words_and_meaning)


def with_kind(
    signal: CrisisSignal | None,
    phrases: PhraseReading,
    score: float,
    readings: Mapping[str, float],
    settings: CrisisModelSettings,
) -> CrisisSignal | None:
    """Whose risk, and whether it is happening now.

    `score` is the model's for the writer's own risk; `readings` holds the model's score for
    worry about someone else (`someone_else`, see `both_say`) and its kinds head's shares for
    nothing, the writer's own risk and an act in progress (`none`, `self`, `act`).

    The card for helpers needs the model's reading for someone else and a sign of risk to them:
    risk to another person named in words (`PhraseReading.someone_else`) with the reading at
    `someone_else_threshold`, or, with no such words, the reading at `_HEAD_ALONE` and the kinds
    head finding someone else's risk likelier than nothing ("my mum is in hospital and I'm
    worried about her" gets no crisis card). A signal for the writer stays theirs unless
    someone else outscores both the model's and the head's reading of the writer's own risk: a
    person at risk who speaks of someone else ("my friend jumped, I want to go the same way")
    must get the card for a person at risk. A crisis whose act-in-progress share reaches `act_threshold` gets the emergency
    route first, as an act phrase does; that share alone raises it at `act_alone_threshold`.
    So does a sign that it is happening now (`PhraseReading.act_now`): the head reads "I'm on
    the bridge" as the writer's risk more often than as an act, and a person there needs 999
    before a listening line."""
    if not readings or (signal is not None and signal.kind == "emergency"):
        return signal
    other, act = readings["someone_else"], readings["act"]
    about_other = (phrases.someone_else and other >= settings.someone_else_threshold) or (
        other >= _HEAD_ALONE and readings["head_someone_else"] > readings["none"]
    )
    if signal is None:
        if phrases.words < settings.min_words:
            return None
        if about_other:
            return CrisisSignal("model", "about someone else", "someone_else")
        # Talk about one's own medicines is what the head mistakes for an act ("took 2
        # ibuprofen for my back"); an overdose names an amount or a means, or the model's
        # score, which the raised bar still hears.
        alone = not phrases.medicine
        if alone and act >= settings.act_alone_threshold and act == max(readings.values()):
            return CrisisSignal("model", "act in progress", "emergency")
        return None
    if (
        signal.rule in ("model", "topic_phrases")
        and about_other
        and other > max(score, readings["self"])
    ):
        return replace(signal, kind="someone_else")
    if act >= settings.act_threshold or phrases.act_now:
        return replace(signal, kind="emergency")
    return signal
