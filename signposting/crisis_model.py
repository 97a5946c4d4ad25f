"""A small learned check for risk in a message, behind the crisis phrases.

Phrase rules are exact about what they catch and blind to wording nobody wrote down: on blind
sets they caught 56–84% of messages about a person's own risk. This model has two parts, both
fitted by `bench/train_crisis_model.py` on the labelled development sets only:

- the words: a logistic regression over words, word pairs and letter runs (so typos and new
  phrasings still share features with what it was fitted on), scored in plain Python;
- the meaning: a one-layer network over the pretrained sentence encoder's vector
  (core/sentence_encoder.py), which knows words the labelled sets never used.

The score is a weighted mean of the two probabilities (`Meaning.weight` is the meaning's
share). The fitted weights are data (signposting/data/crisis_model.json.gz); this module only
reads them and scores, so the bot needs no learning library.

Scoring is deterministic: the same text always gets the same score, and `explain` names the
word features that pushed it, for the evaluation script (never for logs).
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from core import sentence_encoder
from core.phrases import BREAK, words

MODEL_PATH = Path(__file__).resolve().parent / "data" / "crisis_model.json.gz"
FORMAT = 3
"""3: the kinds head and the reader for someone else are part of every model."""
CHAR_SIZES = range(2, 6)


def term_counts(tokens: Sequence[str]) -> Counter[str]:
    """The features of a message: words, word pairs within a clause, and letter runs of 2–5
    inside each word (padded with spaces, so word starts and ends are features too)."""
    counts: Counter[str] = Counter()
    previous: str | None = None
    for token in tokens:
        if token == BREAK:
            previous = None
            continue
        counts["w " + token] += 1
        if previous is not None:
            counts["p " + previous + " " + token] += 1
        previous = token
        padded = f" {token} "
        for size in CHAR_SIZES:
            for start in range(len(padded) - size + 1):
                counts["c " + padded[start : start + size]] += 1
    return counts


def block_of(feature: str) -> str:
    """Words and pairs are weighed as one block, letter runs as another (each scaled to length
    one), so the many letter runs of a long word cannot drown the words."""
    return "c" if feature.startswith("c ") else "w"


def weighted(counts: Mapping[str, int], idf: Mapping[str, float]) -> dict[str, float]:
    """TF-IDF with a logarithmic term count, each block scaled to unit length."""
    values = {
        feature: (1.0 + math.log(count)) * idf[feature]
        for feature, count in counts.items()
        if feature in idf
    }
    norms: dict[str, float] = {}
    for feature, value in values.items():
        norms[block_of(feature)] = norms.get(block_of(feature), 0.0) + value * value
    return {
        feature: value / math.sqrt(norms[block_of(feature)]) for feature, value in values.items()
    }


def logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Meaning:
    """A network over the sentence encoder's vector: one hidden layer of rectified units and a
    logistic output (what scikit-learn's MLPClassifier fits). `weight` is its share of the
    model's score."""

    hidden_weights: np.ndarray
    """(encoder dimensions, hidden units)"""
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    output_bias: float
    weight: float

    def __post_init__(self) -> None:
        hidden = self.hidden_bias.shape
        if (
            self.hidden_weights.shape != (sentence_encoder.DIMENSIONS, *hidden)
            or self.output_weights.shape != hidden
            or not 0.0 <= self.weight <= 1.0
            or not all(
                np.isfinite(part).all()
                for part in (self.hidden_weights, self.hidden_bias, self.output_weights)
            )
            or not math.isfinite(self.output_bias)
        ):
            raise ValueError(
                f"crisis model: meaning network of shape {self.hidden_weights.shape}, "
                f"{self.output_weights.shape} and weight {self.weight} does not fit the encoder "
                "or is not all finite"
            )

    def probability(self, vector: np.ndarray) -> float:
        hidden = np.maximum(vector @ self.hidden_weights + self.hidden_bias, 0.0)
        return logistic(float(hidden @ self.output_weights) + self.output_bias)

    def to_json(self) -> dict[str, object]:
        return {
            "weight": self.weight,
            "hidden_weights": np.round(self.hidden_weights, 6).tolist(),
            "hidden_bias": np.round(self.hidden_bias, 6).tolist(),
            "output_weights": np.round(self.output_weights, 6).tolist(),
            "output_bias": round(self.output_bias, 6),
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, object]) -> Meaning:
        def array(key: str) -> np.ndarray:
            return np.asarray(payload[key], dtype=np.float32)

        return cls(
            hidden_weights=array("hidden_weights"),
            hidden_bias=array("hidden_bias"),
            output_weights=array("output_weights"),
            output_bias=float(payload["output_bias"]),  # type: ignore[arg-type]
            weight=float(payload["weight"]),  # type: ignore[arg-type]
        )


KINDS = ("none", "self", "act", "someone_else")
"""What a message is about, as the kinds head reads it: nothing of risk, the writer's own risk,
an act in progress (an overdose taken, an injury now, someone hurting them now), or worry about
someone else at risk."""


@dataclass(frozen=True)
class Kinds:
    """A multinomial logistic regression over the sentence encoder's vector that says which of
    `KINDS` a message is. The words-and-meaning score decides whether there is risk to the
    writer; this head decides whose risk it is and whether it is happening now, which the
    words alone cannot tell apart ("she took an overdose" from "I took an overdose")."""

    weights: np.ndarray
    """(encoder dimensions, len(KINDS))"""
    bias: np.ndarray

    def __post_init__(self) -> None:
        if (
            self.weights.shape != (sentence_encoder.DIMENSIONS, len(KINDS))
            or self.bias.shape != (len(KINDS),)
            or not (np.isfinite(self.weights).all() and np.isfinite(self.bias).all())
        ):
            raise ValueError(
                f"crisis model: kinds head of shape {self.weights.shape}, {self.bias.shape} "
                f"does not fit the encoder and the {len(KINDS)} kinds, or is not all finite"
            )

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        logits = vector @ self.weights + self.bias
        exp = np.exp(logits - logits.max())
        shares = exp / exp.sum()
        return {kind: float(share) for kind, share in zip(KINDS, shares, strict=True)}

    def to_json(self) -> dict[str, object]:
        return {
            "kinds": list(KINDS),
            "weights": np.round(self.weights, 6).tolist(),
            "bias": np.round(self.bias, 6).tolist(),
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, object]) -> Kinds:
        if list(payload.get("kinds") or []) != list(KINDS):  # type: ignore[call-overload]
            raise ValueError(f"crisis model: kinds head names {payload.get('kinds')}, want {KINDS}")
        return cls(
            weights=np.asarray(payload["weights"], dtype=np.float32),
            bias=np.asarray(payload["bias"], dtype=np.float32),
        )


@dataclass(frozen=True)
class CrisisModel:
    """Fitted weights: for every known feature its idf and its coefficient, and the meaning
    network (None: the words alone decide)."""

    intercept: float
    idf: Mapping[str, float]
    coef: Mapping[str, float]
    spellings: Mapping[str, str]
    meaning: Meaning | None = None
    kinds: Kinds | None = None
    someone_else: CrisisModel | None = None
    """The same two readers fitted to a second question: is this worry about another person at
    risk? Words ("my friend", "she said") carry much of that, so the kinds head over the
    sentence's meaning alone is not asked it."""

    def features(self, text: str) -> dict[str, float]:
        return weighted(term_counts(words(text, self.spellings)), self.idf)

    def words_score(self, text: str) -> float:
        """The words' probability that the message is about the writer's own risk."""
        features = self.features(text)
        if not features:
            return 0.0
        return logistic(self.intercept + sum(value * self.coef[f] for f, value in features.items()))

    def meaning_score(self, text: str, vector: np.ndarray | None = None) -> float:
        """The meaning network's probability; `vector` is the text's encoding if known."""
        if self.meaning is None:
            raise ValueError("this crisis model has no meaning network")
        if vector is None:
            vector = sentence_encoder.vector(text)
        return self.meaning.probability(vector)

    def score(self, text: str, vector: np.ndarray | None = None) -> float:
        """How likely the message is about the writer's own risk, from 0 to 1."""
        by_words = self.words_score(text)
        if self.meaning is None or not text.strip():
            return by_words
        share = self.meaning.weight
        return (1.0 - share) * by_words + share * self.meaning_score(text, vector)

    def someone_else_score(self, text: str, vector: np.ndarray | None = None) -> float:
        """How likely the message is worry about someone else at risk (0 without that part)."""
        if self.someone_else is None or not text.strip():
            return 0.0
        return self.someone_else.score(text, vector)

    def kind_probabilities(self, text: str, vector: np.ndarray | None = None) -> dict[str, float]:
        """The kinds head's reading of the message (empty when this model has none)."""
        if self.kinds is None or not text.strip():
            return {}
        if vector is None:
            vector = sentence_encoder.vector(text)
        return self.kinds.probabilities(vector)

    def explain(self, text: str, top: int = 6) -> list[tuple[str, float]]:
        """The features that pushed the score up most, with their contribution."""
        features = self.features(text)
        pushes = [(f, value * self.coef[f]) for f, value in features.items()]
        return sorted(pushes, key=lambda item: -item[1])[:top]


def save(
    path: Path,
    intercept: float,
    weights: Iterable[tuple[str, float, float]],
    spellings: Mapping[str, str],
    about: Mapping[str, object],
    meaning: Meaning | None = None,
    kinds: Kinds | None = None,
    someone_else: CrisisModel | None = None,
) -> None:
    """Write a fitted model: `weights` holds (feature, idf, coefficient)."""
    payload = {
        "format": FORMAT,
        "about": dict(about),
        "spellings": dict(sorted(spellings.items())),
        **_readers(intercept, weights, meaning),
        "kinds": kinds.to_json() if kinds is not None else None,
        "someone_else": _readers(
            someone_else.intercept,
            [(f, someone_else.idf[f], someone_else.coef[f]) for f in someone_else.idf],
            someone_else.meaning,
        )
        if someone_else is not None
        else None,
    }
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    path.write_bytes(gzip.compress(data, mtime=0))


def _readers(
    intercept: float, weights: Iterable[tuple[str, float, float]], meaning: Meaning | None
) -> dict[str, object]:
    return {
        "intercept": round(intercept, 6),
        "features": {f: [round(idf, 5), round(coef, 5)] for f, idf, coef in sorted(weights)},
        "meaning": meaning.to_json() if meaning is not None else None,
    }


def _model(payload: Mapping[str, Any], spellings: Mapping[str, str]) -> CrisisModel:
    features = payload["features"]
    numbers = [payload["intercept"], *(value for pair in features.values() for value in pair)]
    if not all(math.isfinite(float(number)) for number in numbers):
        raise ValueError("crisis model: a word weight is not a finite number")
    return CrisisModel(
        intercept=float(payload["intercept"]),
        idf={f: float(v[0]) for f, v in features.items()},
        coef={f: float(v[1]) for f, v in features.items()},
        spellings=spellings,
        meaning=Meaning.from_json(payload["meaning"]) if payload.get("meaning") else None,
    )


def load(path: Path = MODEL_PATH) -> CrisisModel:
    """Read a model, refusing one that lacks a part or holds a weight that is not a number, so
    a damaged file stops the bot at start rather than quietly dropping a card."""
    payload = json.loads(gzip.decompress(path.read_bytes()))
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path}: crisis model format {payload.get('format')!r}, want {FORMAT}")
    for part in ("meaning", "kinds", "someone_else"):
        if not payload.get(part):
            raise ValueError(f"{path}: crisis model has no {part!r} part")
    spellings = payload["spellings"]
    return replace(
        _model(payload, spellings),
        kinds=Kinds.from_json(payload["kinds"]),
        someone_else=_model(payload["someone_else"], spellings),
    )


@lru_cache(maxsize=1)
def shipped() -> CrisisModel:
    """The model that ships with the bot, read once, with its encoder loaded (so a damaged
    file stops the bot at start, not on someone's message)."""
    model = load(MODEL_PATH)
    if model.meaning is not None or model.kinds is not None:
        sentence_encoder.shipped()
    return model
