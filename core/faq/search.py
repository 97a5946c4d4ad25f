"""Ranking FAQ entries for a question: BM25F over the question, its other phrasings, the tags and
(lightly) the answer, with Snowball stemming and the policy's own vocabulary as synonyms (plus
looser RELATED concepts that widen a question at a lower weight).

Why our own small BM25F rather than a library: field weights (a match in a question matters more
than one in an answer) are BM25F, which neither rank-bm25 nor bm25s offers; rank-bm25 also scores
every document for every query term in a Python loop. An inverted index with the per-term
contributions computed once at build time scores only the documents that share a term with the
question, which keeps a 5,000-entry knowledge base well under a millisecond or two per question.
The database's full-text search was not used because SQLite (FTS5) and PostgreSQL (tsvector)
rank differently, so the same question would get different answers on the two back ends.
"""

from __future__ import annotations

import heapq
import itertools
import math
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

_stemmer = snowballstemmer.stemmer("english")

# Words that carry no meaning for matching. Kept out on purpose: off, back, before, after,
# during, while, own, first, new, old, not (they separate entries in this policy's vocabulary).
_STOPWORD_TEXT = """
    a about above again against all am an and any are aren't as at be because been being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    down each few for from further had hadn't has hasn't have haven't having he he'd he'll he's
    her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is
    isn't it it's its itself just let's me more most mustn't my myself nor now of on once only
    or other ought our ours ourselves out over same shan't she she'd she'll she's should
    shouldn't so some such than that that's the their theirs them themselves then there there's
    these they they'd they'll they're they've this those through to too under until up very was
    wasn't we we'd we'll we're we've were weren't what what's when when's where where's which
    who who's whom why why's will with won't would wouldn't you you'd you'll you're you've your
    yours yourself yourselves get got go going please thanks thank hi hello anyone someone
    know tell explain ask asked asking say said actually really just still also want wants
    wanted wondering wonder thing things stuff bit something anything everything kind sort
    goes went
    basically exactly quite rather
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# The policy's vocabulary: each group's phrases mean the same thing here. A phrase found in an
# entry adds the group's concept token to that field; in a question the concept stands for the
# phrase, so "RTW", "return to work" and "welcome back" all meet. Hyphens and punctuation are
# gone before matching ("long-term" is "long term"), and stems catch plurals and tenses.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "rtw": (
        "rtw",
        "rtws",
        "return to work",
        "returning to work",
        "returned to work",
        "back to work",
        "back at work",
        "welcome back",
        "come back",
        "comes back",
        "coming back",
        "came back",
        "returner",
        "returners",
    ),
    "healthreview": (
        "health review",
        "welcome back health review",
        "wellbeing review",
        "absence review",
        "review meeting",
    ),
    "trigger": (
        "trigger",
        "trigger point",
        "trigger system",
        "bradford",
        "bradford factor",
        "bradford score",
        "bradford points",
        "points system",
        "absence points",
        "threshold",
        "absence threshold",
    ),
    "plan": (
        "pip",
        "piap",
        "action plan",
        "personal action plan",
        "personalised action plan",
        "personalised improvement action plan",
        "improvement plan",
        "wellbeing plan",
        "wellbeing action plan",
        "support plan",
    ),
    "adjust": (
        "ra",
        "ras",
        "adjustment",
        "reasonable adjustment",
        "workplace adjustment",
        "adjusted duties",
        "amended duties",
        "modified duties",
        "light duties",
        "restricted duties",
    ),
    "adjustplan": (
        "adjustments plan",
        "adjustment plan",
        "workplace adjustments plan",
        "personalised workplace adjustments plan",
        "adjustments passport",
        "adjustment passport",
        "workplace adjustment passport",
        "health passport",
        "disability passport",
        "passport",
    ),
    "phased": (
        "phased return",
        "phased return to work",
        "graded return",
        "gradual return",
        "reduced hours",
        "building up hours",
    ),
    "oh": ("oh", "occupational health", "occ health", "occupational health service"),
    "al": ("al", "annual leave", "holiday", "holidays", "vacation", "leave days"),
    "dtw": (
        "dtw",
        "dying to work",
        "terminal",
        "terminally ill",
        "terminal illness",
        "terminal diagnosis",
        "months to live",
        "end of life",
        "life limiting",
        "incurable",
        "palliative",
    ),
    "cancer": ("cancer", "tumour", "oncology"),
    "treatment": (
        "treatment",
        "chemo",
        "chemotherapy",
        "radiotherapy",
        "dialysis",
        "surgery",
        "operation",
    ),
    "disability": (
        "disability",
        "disabled",
        "long term condition",
        "long term health condition",
        "chronic condition",
        "chronic illness",
    ),
    "eap": (
        "eap",
        "employee assistance programme",
        "employee assistance program",
        "employee assistance",
        "counselling",
        "counsellor",
        "helpline",
        "employee helpline",
    ),
    "sick": ("sick", "sickness", "ill", "illness", "unwell", "poorly"),
    "absence": (
        "absence",
        "absent",
        "off sick",
        "off ill",
        "off work",
        "sick leave",
        "sickness absence",
        "time off sick",
        "signed off",
        "sick day",
        "sick days",
        "attendance",
    ),
    "lts": (
        "lts",
        "long term sick",
        "long term sickness",
        "long term absence",
        "long term sick leave",
        "long term off",
        "off long term",
    ),
    "wfh": (
        "wfh",
        "working from home",
        "work from home",
        "home working",
        "homeworking",
        "remote working",
        "working remotely",
        "work remotely",
        "hybrid working",
    ),
    "ttt": ("ttt", "train the trainer", "train the trainers"),
    "midshift": (
        "mid shift",
        "midshift",
        "part way through",
        "partway through",
        "halfway through",
        "half way through",
        "went home",
        "go home",
        "goes home",
        "going home",
        "sent home",
        "leave early",
        "left early",
        "leaving early",
        "into shift",
        "into their shift",
        "into her shift",
        "into his shift",
    ),
    "doctor": ("gp", "doctor", "doctors"),
    "appointment": (
        "appointment",
        "appt",
        "appts",
        "dentist",
        "dental",
        "clinic",
        "hospital appointment",
        "gp appointment",
        "doctor appointment",
        "check up",
        "antenatal",
    ),
    "fitnote": (
        "fit note",
        "sick note",
        "doctors note",
        "doctor note",
        "gp note",
        "med3",
        "statement of fitness",
        "may be fit",
        "maybe fit",
    ),
    "eia": ("eia", "equality impact assessment", "equality impact", "equality assessment"),
    "equality": (
        "equality",
        "equalities",
        "discrimination",
        "discriminate",
        "discriminatory",
        "protected characteristic",
        "unfair",
        "unfairly",
        "disadvantage",
        "equality and inclusion",
        "edi",
    ),
    "msk": (
        "msk",
        "musculoskeletal",
        "back pain",
        "bad back",
        "slipped disc",
        "sciatica",
        "neck pain",
        "joint pain",
        "bad knee",
        "knee",
        "shoulder",
        "arthritis",
    ),
    "physio": ("physio", "physiotherapy", "physiotherapist"),
    "staffside": (
        "staff side",
        "staffside",
        "trade union",
        "union",
        "unison",
        "rcn",
        "gmb",
        "unite",
        "union rep",
        "staff side rep",
        "rep",
        "representative",
    ),
    "accompany": (
        "companion",
        "accompanied",
        "accompany",
        "bring someone",
        "right to be accompanied",
    ),
    "kpi": (
        "kpi",
        "key performance indicator",
        "metric",
        "measure",
        "absence rate",
        "sickness rate",
        "absence figures",
        "sickness figures",
        "figures",
        "performance indicator",
    ),
    "survey": ("survey", "questionnaire"),
    "feedback": ("feedback", "feedback form", "views", "opinions", "comments"),
    "coordinator": ("coordinator", "co ordinator"),
    "wellbeing": ("wellbeing", "well being", "welfare"),
    "comms": (
        "comms",
        "communication",
        "communications",
        "communicate",
        "message out",
        "word out",
        "spread the word",
        "newsletter",
        "announcement",
        "announce",
        "publicise",
        "publicize",
        "briefing",
        "let staff know",
        "letting staff know",
        "tell staff",
        "telling staff",
    ),
    "dismissal": (
        "dismiss",
        "dismissal",
        "sack",
        "sacked",
        "fired",
        "let go",
        "lose their job",
        "lose your job",
        "lose his job",
        "lose her job",
        "lose my job",
        "losing their job",
        "end their employment",
        "termination",
        "terminated",
        "managed out",
    ),
    "capability": (
        "capability",
        "capability hearing",
        "final meeting",
        "final formal meeting",
        "final stage",
        "final hearing",
        "stage 3",
        "stage three",
        "final warning",
    ),
    "formal": (
        "formal meeting",
        "formal stage",
        "formal process",
        "stage 1",
        "stage one",
        "stage 2",
        "stage two",
        "stage 1 2 and 3",
        "stage 1 2 3",
        "first formal",
        "second formal",
        "attendance meeting",
        "attendance management meeting",
        "absence meeting",
        "sickness meeting",
    ),
    "flowchart": (
        "flowchart",
        "flow chart",
        "process map",
        "process tree",
        "decision tree",
        "diagram",
        "flow diagram",
        "visual",
        "infographic",
    ),
    "induction": (
        "induction",
        "onboarding",
        "onboard",
        "new starter",
        "new joiner",
        "new staff",
        "new recruits",
        "people joining",
        "staff joining",
        "corporate induction",
    ),
    "mentalhealth": (
        "mental health",
        "stress",
        "stressed",
        "anxiety",
        "anxious",
        "depression",
        "depressed",
        "burnout",
        "burnt out",
        "burned out",
        "panic attack",
        "low mood",
        "ptsd",
        "mental wellbeing",
        "emotional wellbeing",
        "overwhelmed",
        "exhausted",
    ),
    "stressassess": (
        "stress risk assessment",
        "stress assessment",
        "stress survey",
        "stress questionnaire",
        "stress audit",
        "hse management standards",
        "management standards",
        "hse indicator tool",
    ),
    "presenteeism": (
        "presenteeism",
        "working while ill",
        "working when ill",
        "working while unwell",
        "working when unwell",
        "work while unwell",
        "work when unwell",
        "coming in sick",
        "come in sick",
        "coming in ill",
        "coming in unwell",
        "come to work unwell",
        "coming to work unwell",
        "coming into work unwell",
        "struggling in",
        "soldiering on",
        "battling on",
    ),
    "chaplaincy": ("chaplain", "chaplaincy", "spiritual care", "pastoral care"),
    "coaching": ("coach", "coaching", "mentor", "mentoring"),
    "advice": ("advice", "advise", "advising", "adviser", "advisor"),
    "pushback": (
        "pushback",
        "push back",
        "pushing back",
        "resistance",
        "resist",
        "resistant",
        "challenge",
        "challenging",
        "arguing",
        "sceptical",
        "skeptical",
        "too soft",
        "soft touch",
        "free pass",
        "get away with",
        "getting away with",
        "lets people off",
        "let people off",
        "skivers",
        "skiving",
        "swinging the lead",
    ),
    "removed": (
        "remove",
        "removal",
        "scrap",
        "abolish",
        "taken out",
        "drop",
        "got rid",
        "get rid",
        "getting rid",
        "gone",
        "no longer",
        "stopped",
        "ditched",
    ),
    "increase": (
        "go up",
        "goes up",
        "going up",
        "gone up",
        "rise",
        "increase",
        "shoot up",
        "climb",
        "spike",
        "more sick",
        "more sickness",
        "more absence",
    ),
    "transition": (
        "transition",
        "switch",
        "switch over",
        "switchover",
        "changeover",
        "move over",
        "moving over",
        "migrate",
        "migration",
        "old policy",
        "old process",
        "previous policy",
    ),
    "launch": ("launch", "go live", "goes live", "went live", "golive", "launch date"),
    "frequent": (
        "frequent absence",
        "frequently absent",
        "frequently off",
        "repeated absence",
        "regularly off",
        "off a lot",
        "off all the time",
        "every other week",
        "short term absence",
        "short term sickness",
        "persistent absence",
        "recurring absence",
        "keeps going off",
    ),
    "conversation": (
        "conversation",
        "chat",
        "discussion",
        "catch up",
        "one to one",
        "1 to 1",
        "check in",
    ),
    "speed": (
        "quick",
        "quickly",
        "fast",
        "speed",
        "delay",
        "timescale",
        "forever",
        "deadline",
        "slow",
        "ages",
        "dragging",
        "drag on",
        "time frame",
        "timeframe",
        "waiting",
    ),
    "implement": (
        "implement",
        "implementation",
        "rollout",
        "roll out",
        "in place",
        "embed",
        "bed in",
    ),
    "data": ("data", "information", "statistics", "stats", "numbers"),
    "impact": ("impact", "difference", "effect", "effective"),
    "informal": ("informal", "informally"),
    "worse": ("worse", "dip", "decline", "deteriorate", "look bad", "looks bad", "get worse"),
    "learn": ("learn", "find out", "hear about", "finding out"),
    "support": ("support", "look after", "look out for", "looks out for", "looking after"),
    "manager": (
        "manager",
        "line manager",
        "supervisor",
        "team leader",
        "team lead",
        "ward manager",
        "ward sister",
        "charge nurse",
        "matron",
        "department head",
        "head of department",
    ),
    "training": (
        "training",
        "course",
        "session",
        "workshop",
        "module",
        "training session",
        "training pack",
        "slides",
        "slide deck",
        "e learning",
        "elearning",
    ),
    "record": (
        "record",
        "document",
        "write down",
        "written down",
        "write up",
        "note down",
        "notes",
        "paper trail",
        "audit trail",
        "log",
    ),
    "author": (
        "who wrote",
        "who made",
        "who created",
        "who developed",
        "who produced",
        "who put together",
        "written by",
        "developed by",
        "created by",
        "produced by",
        "author",
        "authors",
        "come from",
        "came from",
    ),
    "bot": (
        "bot",
        "chatbot",
        "chat bot",
        "faq bot",
        "ask you",
        "asking you",
        "can you do",
        "can you help",
        "you help with",
        "use you",
        "this faq",
    ),
    "hr": (
        "hr",
        "human resources",
        "people team",
        "people services",
        "hrbp",
        "hr business partner",
    ),
    "policy": ("policy", "wam", "wamp"),
}

# Looser links, used only to widen a question at RELATED_WEIGHT: a question about "cancer" may
# well be about a terminal diagnosis, one about dismissal about the capability hearing.
RELATED: dict[str, tuple[str, ...]] = {
    "cancer": ("dtw", "treatment", "disability"),
    "dismissal": ("capability", "formal"),
    "capability": ("dismissal", "formal"),
    "formal": ("capability",),
    "lts": ("absence", "sick"),
    "accompany": ("staffside", "formal"),
    "staffside": ("accompany",),
    "appointment": ("doctor", "treatment"),
    "doctor": ("appointment",),
    "treatment": ("appointment", "disability"),
    "survey": ("feedback",),
    "feedback": ("survey",),
    "kpi": ("data",),
    "data": ("kpi",),
    "phased": ("rtw", "adjust", "fitnote"),
    "fitnote": ("adjust", "phased"),
    "adjustplan": ("adjust",),
    "presenteeism": ("sick",),
    "frequent": ("absence", "trigger"),
    "healthreview": ("rtw",),
    "msk": ("adjust", "physio"),
    "physio": ("msk",),
    "equality": ("eia",),
    "eia": ("equality",),
    "coaching": ("advice",),
    "advice": ("coaching",),
    "mentalhealth": ("support",),
    "stressassess": ("mentalhealth",),
    "eap": ("support",),
    "chaplaincy": ("support",),
    "launch": ("implement",),
    "implement": ("launch",),
}

# Words that rarely decide which entry is meant, counted at LIGHT_WORD_WEIGHT in a question.
_LIGHT_WORD_TEXT = """
    need needs needed make makes made use used using way best good help helps work works new
    happen happens happened mean means people person
"""
LIGHT_WORDS = frozenset(_LIGHT_WORD_TEXT.split())

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NON_WORD = re.compile(r"[^a-z0-9'\s]+")
_POSSESSIVE = re.compile(r"'s\b")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, plain apostrophes, no punctuation: "Co-ordinator's" -> "co ordinator".

    Apostrophes inside words stay, so "i'll" is still a stopword and not "ill"."""
    text = unicodedata.normalize("NFKC", text or "").translate(_APOSTROPHES).lower()
    text = text.replace("&", " and ")
    text = _POSSESSIVE.sub("", text)
    text = _NON_WORD.sub(" ", text)
    return _SPACE.sub(" ", text).strip(" '")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a word, apostrophes dropped: "adjustments" -> "adjust"."""
    return _stemmer.stemWord(word.replace("'", ""))


def _stems(text: str) -> list[str]:
    return [stem(word) for word in normalise(text).split()]


def _compile_synonyms(
    groups: dict[str, Sequence[str]],
) -> tuple[dict[tuple[str, ...], str], dict[tuple[str, ...], str]]:
    """(by exact words, by stems). Stems catch plurals and tenses; when two groups share a stem
    ("informal" and "information" both stem to "inform") only the exact words count."""
    by_words: dict[tuple[str, ...], str] = {}
    by_stems: dict[tuple[str, ...], str | None] = {}
    for concept, variants in groups.items():
        for variant in variants:
            words = tuple(normalise(variant).split())
            if by_words.get(words, concept) != concept:
                raise ValueError(
                    f"synonym {variant!r} is in both {by_words[words]!r} and {concept!r}"
                )
            by_words[words] = concept
            stems = tuple(stem(word) for word in words)
            by_stems[stems] = concept if by_stems.get(stems, concept) == concept else None
    return by_words, {key: value for key, value in by_stems.items() if value is not None}


@dataclass(frozen=True)
class Unit:
    """One meaningful piece of a question: the term that must match for it to count as covered,
    and every term that scores, with its query weight (a synonym phrase also scores its own
    words, the concepts of shorter phrases inside it and its related concepts, all lightly)."""

    key: str
    terms: tuple[tuple[str, float], ...]

    def weighted(self) -> list[tuple[str, float]]:
        return list(self.terms)


class Analyzer:
    """Turns text into terms: stems without stopwords, plus a concept token per synonym found."""

    def __init__(
        self,
        synonyms: dict[str, Sequence[str]] = SYNONYMS,
        related: dict[str, Sequence[str]] = RELATED,
    ):
        self._by_words, self._by_stems = _compile_synonyms(synonyms)
        self._longest = max((len(p) for p in self._by_words), default=1)
        unknown = {c for cs in related.values() for c in cs} | set(related)
        if unknown - set(synonyms):
            raise ValueError(f"related concepts without a synonym group: {unknown - set(synonyms)}")
        self._related = {concept: tuple(others) for concept, others in related.items()}

    def _match(self, words: list[str], stems: list[str], i: int, size: int) -> str | None:
        return self._by_words.get(tuple(words[i : i + size])) or self._by_stems.get(
            tuple(stems[i : i + size])
        )

    def _scan(self, words: list[str], stems: list[str]) -> list[tuple[int, int, str]]:
        """Synonym phrases found, longest first, never overlapping: (start, end, concept)."""
        found: list[tuple[int, int, str]] = []
        i = 0
        while i < len(stems):
            for size in range(min(self._longest, len(stems) - i), 0, -1):
                concept = self._match(words, stems, i, size)
                if concept is not None:
                    found.append((i, i + size, concept))
                    i += size
                    break
            else:
                i += 1
        return found

    def _scan_all(self, words: list[str], stems: list[str], start: int, end: int) -> list[str]:
        """Every synonym phrase inside words[start:end], overlapping or not: their concepts."""
        found: list[str] = []
        for i in range(start, end):
            for size in range(1, min(self._longest, end - i) + 1):
                concept = self._match(words, stems, i, size)
                if concept is not None:
                    found.append(concept)
        return found

    def document_terms(self, text: str) -> list[str]:
        """Terms for an indexed field: its words and the concepts of every synonym in it, so
        "sickness absence" is found by a question about "sickness" and one about "absence"."""
        words = normalise(text).split()
        stems = [stem(w) for w in words]
        terms = [s for w, s in zip(words, stems, strict=True) if w not in STOPWORDS]
        terms += [
            "@" + concept for concept in dict.fromkeys(self._scan_all(words, stems, 0, len(words)))
        ]
        return terms

    def bigrams(self, text: str) -> list[str]:
        """Neighbouring meaningful words ("formal~meet"): a light reward for matching word order."""
        stems = [stem(w) for w in normalise(text).split() if w not in STOPWORDS]
        return [f"{a}~{b}" for a, b in itertools.pairwise(stems)]

    def query_units(self, text: str) -> list[Unit]:
        """A question's units, in order, each once: synonym phrases become their concept, which
        is expanded, at lower weights, by the phrase's own words, the concepts of shorter
        phrases inside it and the concepts RELATED to it."""
        words = normalise(text).split()
        stems = [stem(w) for w in words]
        spans = {start: (end, concept) for start, end, concept in self._scan(words, stems)}
        units: list[Unit] = []
        seen: set[str] = set()
        i = 0
        while i < len(words):
            if i in spans:
                end, concept = spans[i]
                terms: dict[str, float] = {"@" + concept: 1.0}
                for w, s in zip(words[i:end], stems[i:end], strict=True):
                    if w not in STOPWORDS:
                        terms.setdefault(s, PHRASE_WORD_WEIGHT)
                for inner in self._scan_all(words, stems, i, end):
                    terms.setdefault("@" + inner, PHRASE_WORD_WEIGHT)
                for other in self._related.get(concept, ()):
                    terms.setdefault("@" + other, RELATED_WEIGHT)
                unit = Unit("@" + concept, tuple(terms.items()))
                i = end
            else:
                if words[i] in STOPWORDS:
                    i += 1
                    continue
                weight = LIGHT_WORD_WEIGHT if words[i] in LIGHT_WORDS else 1.0
                unit = Unit(stems[i], ((stems[i], weight),))
                i += 1
            if unit.key not in seen:
                seen.add(unit.key)
                units.append(unit)
        return units


@dataclass(frozen=True)
class Document:
    """What the index needs from an FAQ entry."""

    id: str
    question: str
    phrasings: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    answer: str = ""


@dataclass(frozen=True)
class Field:
    """How much a match in one part of an entry counts, and how much its length is discounted."""

    weight: float
    b: float


@dataclass(frozen=True)
class Weights:
    """BM25F parameters, chosen on the `tune` and `tune_seen` parts of tests/fixtures/faq_eval.yaml
    (a wide plateau: nudging any one of them moves top-1 by a question or two at most)."""

    question: Field = Field(1.0, 0.5)
    phrasings: Field = Field(0.9, 0.6)
    tags: Field = Field(0.6, 0.3)
    answer: Field = Field(0.15, 0.75)
    k1: float = 1.2
    answer_only_coverage: float = 0.5
    """How much a part of the question counts as covered when only the answer mentions it."""


@dataclass(frozen=True)
class Hit:
    entry_id: str
    score: float
    coverage: float
    """Share of the question (weighted by how rare each part is) that this entry matches."""


@dataclass(frozen=True)
class Ranking:
    """The closest entries, best first, and how confident the top one is (0 to 1)."""

    hits: tuple[Hit, ...]
    confidence: float
    margin: float

    @property
    def top(self) -> Hit | None:
        return self.hits[0] if self.hits else None


BIGRAM_WEIGHT = 0.5
"""Query weight of a pair of neighbouring words found in an entry's question or phrasings."""

PHRASE_WORD_WEIGHT = 0.3
"""Query weight of the separate words of a synonym phrase ("look" in "look out for") and of the
concepts of shorter phrases inside it: the whole phrase carries the meaning, these break ties."""

RELATED_WEIGHT = 0.4
"""Query weight of a concept RELATED to one in the question ("cancer" also looks for "terminal")."""

LIGHT_WORD_WEIGHT = 0.5
"""Query weight of LIGHT_WORDS."""

DENSE_DEPTHS = (64, 512)
"""How deep into each common term's best entries _top looks before summing whole columns."""

DENSE_MIN_ENTRIES = 256
DENSE_SHARE = 0.05
"""Terms in at least this share of a large index are kept as dense columns (see FaqIndex)."""

ANSWER_DF_SHARE = 0.5
"""How much an entry that mentions a term only in its answer counts towards the term's frequency."""

TIE_PENALTY = 0.7
"""How far a runner-up that matches the question just as fully can pull the confidence down."""


def confidence(top: Hit | None, runner_up: Hit | None) -> tuple[float, float]:
    """(confidence, margin), both 0..1.

    Confidence starts from the share of the question the top entry covers. When the runner-up
    covers the question as fully (a short or vague question that several entries match), it is
    lowered by up to TIE_PENALTY as the two scores get closer; a runner-up that covers less
    lowers it less. Chosen on the tuning half of the eval set; thresholds live in config."""
    if top is None or top.score <= 0:
        return 0.0, 0.0
    if runner_up is None:
        return top.coverage, 1.0
    margin = max(0.0, (top.score - runner_up.score) / top.score)
    tie = min(1.0, runner_up.coverage / top.coverage) if top.coverage else 1.0
    return top.coverage * (1 - TIE_PENALTY * tie * (1 - margin)), margin


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two sets of question units."""
    return len(a & b) / len(a | b) if a or b else 0.0


class FaqIndex:
    """An immutable inverted index over FAQ entries; build it again when the entries change."""

    def __init__(
        self,
        documents: Iterable[Document],
        *,
        analyzer: Analyzer | None = None,
        weights: Weights = Weights(),
    ):
        self.analyzer = analyzer or Analyzer()
        self.weights = weights
        self.ids: list[str] = []
        fields: list[list[Counter[str]]] = []
        documents = list(documents)
        # The phrasings are other ways to ask one question, not more text: their field's length is
        # that of an average phrasing, so an entry is not discounted for being asked many ways.
        per_asking = [max(1, len(document.phrasings)) for document in documents]
        for document in documents:
            self.ids.append(document.id)
            analyse = self.analyzer.document_terms
            pairs = self.analyzer.bigrams
            phrasings: Counter[str] = Counter()
            for phrasing in document.phrasings:
                phrasings.update(analyse(phrasing) + pairs(phrasing))
            fields.append(
                [
                    Counter(analyse(document.question) + pairs(document.question)),
                    phrasings,
                    Counter(t for tag in document.tags for t in analyse(tag)),
                    Counter(analyse(document.answer)),
                ]
            )
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("FAQ entry ids must be unique")
        specs = (weights.question, weights.phrasings, weights.tags, weights.answer)
        count = len(self.ids)
        field_lengths = [
            [
                sum(counter.values()) / (per_asking[i] if f == 1 else 1)
                for f, counter in enumerate(doc)
            ]
            for i, doc in enumerate(fields)
        ]
        averages = [
            (sum(lengths[f] for lengths in field_lengths) / count) if count else 1.0
            for f in range(len(specs))
        ]
        # A term only in an entry's answer says less about what the entry is for, so it counts
        # ANSWER_DF_SHARE of a document towards the term's frequency (and its idf stays higher).
        document_frequency: Counter[str] = Counter()
        for doc in fields:
            strong = set().union(*doc[:3])
            document_frequency.update(strong)
            for term in doc[3].keys() - strong:
                document_frequency[term] += ANSWER_DF_SHARE
        self.idf = {
            term: math.log(1 + (count - df + 0.5) / (df + 0.5))
            for term, df in document_frequency.items()
        }
        self.unknown_idf = math.log(1 + (count + 0.5) / 0.5) if count else 1.0
        self.terms: list[frozenset[str]] = []
        self.strong_terms: list[frozenset[str]] = []
        self.askings: list[list[frozenset[str]]] = [
            [
                frozenset(u.key for u in self.analyzer.query_units(text))
                for text in (document.question, *document.phrasings)
            ]
            for document in documents
        ]
        self.postings: dict[str, list[tuple[int, float]]] = {}
        k1 = weights.k1
        for index, (doc, lengths) in enumerate(zip(fields, field_lengths, strict=True)):
            norms = [
                spec.weight / (1 - spec.b + spec.b * (length / (average or 1.0)))
                for spec, length, average in zip(specs, lengths, averages, strict=True)
            ]
            vocabulary = frozenset().union(*doc)
            self.terms.append(vocabulary)
            self.strong_terms.append(frozenset().union(*doc[:3]))
            for term in vocabulary:
                tf = sum(norm * counter[term] for norm, counter in zip(norms, doc, strict=True))
                contribution = self.idf[term] * tf * (k1 + 1) / (k1 + tf)
                self.postings.setdefault(term, []).append((index, contribution))
        # Terms in a large share of entries ("manager", "policy") are summed as whole columns,
        # element by element in C, instead of one posting at a time in Python.
        self.dense: dict[str, list[float]] = {}
        self.dense_lookup: dict[str, dict[int, float]] = {}
        self.dense_ranked: dict[str, list[tuple[int, float]]] = {}
        if count >= DENSE_MIN_ENTRIES:
            for term, postings in self.postings.items():
                if len(postings) >= count * DENSE_SHARE:
                    column = [0.0] * count
                    for index, contribution in postings:
                        column[index] = contribution
                    self.dense[term] = column
                    self.dense_lookup[term] = dict(postings)
                    self.dense_ranked[term] = sorted(postings, key=lambda p: p[1], reverse=True)

    def __len__(self) -> int:
        return len(self.ids)

    def _covered(self, units: list[Unit], index: int) -> float:
        """The idf-weighted part of the question an entry matches; answer-only matches count less."""
        covered = 0.0
        for unit in units:
            if unit.key in self.strong_terms[index]:
                covered += self.idf[unit.key]
            elif unit.key in self.terms[index]:
                covered += self.idf[unit.key] * self.weights.answer_only_coverage
        return covered

    def _top(self, terms: dict[str, float], k: int) -> list[tuple[int, float]]:
        """(entry index, score) of the k best-scoring entries that share a term with the query;
        `terms` maps each query term to its weight."""
        dense = {t: w for t, w in terms.items() if t in self.dense}
        scores: dict[int, float] = {}
        for term, weight in terms.items():
            if term in dense:
                continue
            for index, contribution in self.postings.get(term, ()):
                scores[index] = scores.get(index, 0.0) + contribution * weight
        for depth in DENSE_DEPTHS if dense else ():
            # Candidates: the entries the rarer terms found, plus each common term's best `depth`
            # entries. Any other entry gets at most each common term's depth-th contribution
            # (`ceiling`); when the k-th candidate beats that, this top k is exact (the threshold
            # algorithm), found without touching every entry. Otherwise look deeper.
            candidates = set(scores)
            ceiling = 0.0
            for term, weight in dense.items():
                ranked = self.dense_ranked[term]
                candidates.update(index for index, _ in ranked[:depth])
                ceiling += (ranked[depth][1] if len(ranked) > depth else 0.0) * weight
            full = {
                index: scores.get(index, 0.0)
                + sum(self.dense_lookup[t].get(index, 0.0) * w for t, w in dense.items())
                for index in candidates
            }
            best = heapq.nlargest(k, sorted(full), key=full.__getitem__)
            if len(best) == k and full[best[-1]] >= ceiling:
                return [(index, full[index]) for index in best]
        if dense:
            # Otherwise sum whole columns, element by element in C.
            totals = [0.0] * len(self.ids)
            for term, weight in dense.items():
                column = self.dense[term]
                if weight != 1.0:
                    column = list(map(operator.mul, column, itertools.repeat(weight)))
                totals = list(map(operator.add, totals, column))
            for term, weight in terms.items():
                if term not in dense:
                    for index, contribution in self.postings.get(term, ()):
                        totals[index] += contribution * weight
            best = heapq.nlargest(k, range(len(totals)), key=totals.__getitem__)
            return [(index, totals[index]) for index in best if totals[index] > 0]
        best = heapq.nlargest(k, sorted(scores), key=scores.__getitem__)
        return [(index, scores[index]) for index in best]

    def rank(self, question: str, k: int = 3) -> Ranking:
        """The k closest entries to a question, and the confidence in the first."""
        units = self.analyzer.query_units(question)
        terms: dict[str, float] = {}
        for unit in units:
            for term, weight in unit.weighted():
                terms[term] = max(weight, terms.get(term, 0.0))
        for pair in self.analyzer.bigrams(question):
            terms.setdefault(pair, BIGRAM_WEIGHT)
        best = self._top(terms, max(k, 2))
        total = sum(self.idf.get(u.key, self.unknown_idf) for u in units)
        hits = [
            Hit(self.ids[index], score, self._covered(units, index) / total if total else 0.0)
            for index, score in best
        ]
        value, margin = confidence(hits[0] if hits else None, hits[1] if len(hits) > 1 else None)
        if best:
            # Asked in (nearly) the words of one of the entry's own questions: as sure as that.
            asked = frozenset(u.key for u in units)
            value = max(value, max(_overlap(asked, known) for known in self.askings[best[0][0]]))
        return Ranking(tuple(hits[:k]), value, margin)
