"""Ranking FAQ entries for a question: BM25F over the question, its other phrasings, the tags and
(lightly) the answer, with Snowball stemming and the policy's own vocabulary as synonyms (plus
looser RELATED concepts that widen a question at a lower weight), fused with what the sentence
encoder makes of the question and the entries (core/faq/meaning.py), so a question that shares
no word with its entry still finds it.

Why our own small BM25F rather than a library: field weights (a match in a question matters more
than one in an answer) are BM25F, which neither rank-bm25 nor bm25s offers; rank-bm25 also scores
every document for every query term in a Python loop. Here each term's contribution to each
entry is computed once at build time and kept in two flat arrays (entry, contribution), so a
question is scored with one vectorised addition per term: well under a millisecond at 5,000 entries.
The database's full-text search was not used because SQLite (FTS5) and PostgreSQL (tsvector)
rank differently, so the same question would get different answers on the two back ends.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import snowballstemmer
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from core import sentence_encoder
from core.faq.meaning import MeaningIndex

VOCABULARY_FILE = Path(__file__).resolve().parent / "data" / "vocabulary.yaml"
_stemmer = snowballstemmer.stemmer("english")


class Vocabulary(BaseModel):
    """The policy's own words (core/faq/data/vocabulary.yaml): what to ignore, what weighs less,
    which phrases mean the same, and which concepts are related. Checked when loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stopwords: frozenset[str]
    light_words: frozenset[str]
    synonyms: dict[str, tuple[str, ...]]
    related: dict[str, tuple[str, ...]]
    elsewhere: frozenset[str] = frozenset()
    """Concepts other HR policies own: see `elsewhere_penalty`."""

    @field_validator("stopwords", "light_words", mode="before")
    @classmethod
    def _words(cls, value: object) -> object:
        return frozenset(value.split()) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Vocabulary:
        for concept, phrases in self.synonyms.items():
            if not phrases or any(not normalise(phrase) for phrase in phrases):
                raise ValueError(f"synonym group {concept!r} has an empty phrase")
        unknown = {
            name
            for concept, others in self.related.items()
            for name in (concept, *others)
            if name not in self.synonyms
        }
        if unknown:
            raise ValueError(f"related names concepts with no synonym group: {sorted(unknown)}")
        if self.elsewhere - self.synonyms.keys():
            missing = sorted(self.elsewhere - self.synonyms.keys())
            raise ValueError(f"elsewhere names concepts with no synonym group: {missing}")
        _compile_synonyms(self.synonyms)  # a phrase in two groups raises here
        return self


def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    """The vocabulary from a YAML file; a mistake raises with the file and the problem."""
    try:
        return Vocabulary.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error


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


VOCABULARY = load_vocabulary()
STOPWORDS = VOCABULARY.stopwords
LIGHT_WORDS = VOCABULARY.light_words
SYNONYMS = VOCABULARY.synonyms
RELATED = VOCABULARY.related
ELSEWHERE = frozenset("@" + concept for concept in VOCABULARY.elsewhere)


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
    answer: Field = Field(0.3, 0.75)
    k1: float = 1.2
    answer_only_coverage: float = 0.5
    """How much a part of the question counts as covered when only the answer mentions it."""


@dataclass(frozen=True)
class Hit:
    entry_id: str
    score: float
    """The fused score (or the BM25F score, when the index has no meaning)."""
    coverage: float
    """Share of the question (weighted by how rare each part is) that this entry matches."""
    meaning: float = 0.0
    """Cosine between the question and the entry's nearest text (0 without meaning)."""


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

ANSWER_DF_SHARE = 0.5
"""How much an entry that mentions a term only in its answer counts towards the term's frequency."""

TIE_PENALTY = 0.7
"""How far a runner-up that matches the question just as fully can pull the confidence down."""

MEANING_WEIGHT = 0.5
"""Share of the fused score that comes from meaning: each entry scores
(1 - MEANING_WEIGHT) * its BM25F score / the best BM25F score * sqrt(the best one's coverage)
+ MEANING_WEIGHT * its agreement / the best agreement (closeness to its nearest text, blended
with its second nearest: MeaningIndex.agreement). The square root of coverage keeps a
question whose best word match is one common word ("trouble") from being decided by it. Chosen
on bench/data/faq_dev.yaml and the tuning fixtures, at 70 and at 5,000 entries."""

CANDIDATES = 50
"""How many of the best entries by words, and by meaning, are fused and ranked."""


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


MEANING_CONFIDENCE = 0.4
"""Share of the confidence that comes from how close the best entry means (the rest is how much
of the question its words cover, as without meaning)."""

MEANING_FLOOR, MEANING_FULL = 0.5, 0.8
"""Closeness at which meaning starts to add confidence, and at which it adds all it can. Most
HR questions, even out of scope, are 0.45 to 0.65 from some entry; an entry asked in other
words is usually above 0.7. These, MEANING_CONFIDENCE and the thresholds in FaqConfig were chosen
together on bench/data/faq_dev.yaml and the tuning fixtures (bench/faq_eval.py)."""


MEANING_GAP = 0.1
MEANING_TIE_PENALTY = 0.5
"""How far a runner-up less than MEANING_GAP less close pulls the meaning's part down."""


def fused_confidence(
    hits: Sequence[Hit],
    words: Sequence[float],
    known: Sequence[frozenset[str]],
    asked: frozenset[str],
) -> tuple[float, float]:
    """(confidence, margin) for a fused ranking: a blend of the words' confidence (coverage,
    lowered by a close runner-up, as `confidence`) and of the top entry's closeness, raised to
    the overlap with one of its own questions when asked in (nearly) those words."""
    top = Hit(hits[0].entry_id, words[0], hits[0].coverage)
    runner_up = Hit(hits[1].entry_id, words[1], hits[1].coverage) if len(hits) > 1 else None
    lexical, _ = confidence(top, runner_up)
    meant = min(1.0, max(0.0, (hits[0].meaning - MEANING_FLOOR) / (MEANING_FULL - MEANING_FLOOR)))
    if len(hits) > 1:
        # A runner-up that means nearly the same (a vague question) leaves less to be sure of.
        apart = min(1.0, max(0.0, hits[0].meaning - hits[1].meaning) / MEANING_GAP)
        meant *= 1 - MEANING_TIE_PENALTY * (1 - apart)
    value = (1 - MEANING_CONFIDENCE) * lexical + MEANING_CONFIDENCE * meant
    value = max(value, max((_overlap(asked, words) for words in known), default=0.0))
    margin = 1.0
    if len(hits) > 1:
        margin = (hits[0].score - hits[1].score) / hits[0].score if hits[0].score > 0 else 0.0
    return value, max(0.0, margin)


ELSEWHERE_PENALTY = 0.5
"""How much of its confidence a ranking keeps when the question asks about a subject another HR
policy owns (pay, pensions, parking...: `elsewhere` in the vocabulary) that its top entry never
names. Such a question's nearest entry is a neighbour that shares its other words ("sickness
during annual leave" for "can I carry over annual leave"), so it is offered, not answered. Half
takes the out-of-scope questions of the burned FAQ sets below `answer_at` (their best reached
0.41) while an in-scope question, whose entry names the subject, loses nothing."""


def elsewhere_penalty(asked: frozenset[str], entry_terms: frozenset[str]) -> float:
    """1.0, or ELSEWHERE_PENALTY when the question names another policy's subject the entry lacks."""
    return 1.0 if (asked & ELSEWHERE) <= entry_terms else ELSEWHERE_PENALTY


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
        meaning: MeaningIndex | None = None,
    ):
        self.analyzer = analyzer or Analyzer()
        self.weights = weights
        self.meaning = meaning
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
        if meaning is not None and len(meaning) != len(self.ids):
            raise ValueError("the meaning index must hold the same entries, in the same order")
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
        postings: dict[str, list[tuple[int, float]]] = {}
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
                postings.setdefault(term, []).append((index, contribution))
        # Every term's postings side by side in two flat arrays (entry, contribution), a term's
        # run found by its (start, end): a question's scores are then one vectorised addition
        # per term, over all entries at once, instead of a Python loop over each posting.
        self._runs: dict[str, tuple[int, int]] = {}
        flat = [posting for term_postings in postings.values() for posting in term_postings]
        start = 0
        for term, term_postings in postings.items():
            self._runs[term] = (start, start + len(term_postings))
            start += len(term_postings)
        self._posting_entries = np.fromiter((i for i, _ in flat), np.int64, len(flat))
        self._posting_scores = np.fromiter((c for _, c in flat), np.float64, len(flat))

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

    def _scores(self, terms: dict[str, float]) -> np.ndarray:
        """Every entry's BM25F score for the query terms (`terms` maps each to its weight)."""
        totals = np.zeros(len(self.ids))
        for term, weight in terms.items():
            run = self._runs.get(term)
            if run is not None:
                entries = self._posting_entries[run[0] : run[1]]
                totals[entries] += self._posting_scores[run[0] : run[1]] * weight
        return totals

    @staticmethod
    def _best(totals: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(entry index, score) of the k best entries that share a term with the query, best
        first, ties to the earlier entry (every matching entry scores above zero)."""
        matching = np.flatnonzero(totals > 0)
        if len(matching) > k:
            matching = matching[np.argpartition(-totals[matching], k - 1)[:k]]
        order = sorted(matching.tolist(), key=lambda index: (-totals[index], index))
        return [(index, float(totals[index])) for index in order]

    def rank(self, question: str, k: int = 3, vector: np.ndarray | None = None) -> Ranking:
        """The k closest entries to a question, and the confidence in the first.

        With meaning, `vector` is the question's encoding (computed here when not given)."""
        units = self.analyzer.query_units(question)
        terms: dict[str, float] = {}
        for unit in units:
            for term, weight in unit.weighted():
                terms[term] = max(weight, terms.get(term, 0.0))
        for pair in self.analyzer.bigrams(question):
            terms.setdefault(pair, BIGRAM_WEIGHT)
        total = sum(self.idf.get(u.key, self.unknown_idf) for u in units)
        asked = frozenset(u.key for u in units)
        if self.meaning is None or not len(self.ids):
            best = self._best(self._scores(terms), max(k, 2))
            hits = [
                Hit(self.ids[index], score, self._covered(units, index) / total if total else 0.0)
                for index, score in best
            ]
            value, margin = confidence(
                hits[0] if hits else None, hits[1] if len(hits) > 1 else None
            )
            if best:
                # Asked in (nearly) the words of one of the entry's own questions: as sure as that.
                known = self.askings[best[0][0]]
                value = max(value, max(_overlap(asked, words) for words in known))
                value *= elsewhere_penalty(asked, self.terms[best[0][0]])
            return Ranking(tuple(hits[:k]), value, margin)
        return self._fused(question, k, vector, units, terms, total, asked)

    def _fused(
        self,
        question: str,
        k: int,
        vector: np.ndarray | None,
        units: list[Unit],
        terms: dict[str, float],
        total: float,
        asked: frozenset[str],
    ) -> Ranking:
        """Words and meaning together: the best CANDIDATES by each, scored by both."""
        assert self.meaning is not None
        closeness, agreement = self.meaning.agreement(
            sentence_encoder.vector(question) if vector is None else vector
        )
        totals = self._scores(terms)
        by_words = dict(self._best(totals, CANDIDATES))
        count = len(self.ids)
        if count > CANDIDATES:
            by_meaning = np.argpartition(-agreement, CANDIDATES)[:CANDIDATES].tolist()
        else:
            by_meaning = list(range(count))
        candidates = set(by_words) | set(by_meaning)
        words = {index: float(totals[index]) for index in candidates}
        strongest = max(candidates, key=words.__getitem__)
        best_words = words[strongest] or 1.0
        covered = self._covered(units, strongest) / total if total else 0.0
        lexical = (1 - MEANING_WEIGHT) * math.sqrt(covered) / best_words
        best_meaning = max(float(agreement.max()), 1e-6)
        fused = {
            index: lexical * words[index] + MEANING_WEIGHT * float(agreement[index]) / best_meaning
            for index in candidates
        }
        order = heapq.nlargest(max(k, 2), sorted(fused), key=fused.__getitem__)
        hits = [
            Hit(
                self.ids[index],
                fused[index],
                self._covered(units, index) / total if total else 0.0,
                float(closeness[index]),
            )
            for index in order
        ]
        value, margin = fused_confidence(
            hits, [words[index] for index in order], self.askings[order[0]], asked
        )
        value *= elsewhere_penalty(asked, self.terms[order[0]])
        return Ranking(tuple(hits[:k]), value, margin)
