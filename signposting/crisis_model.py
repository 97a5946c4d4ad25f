"""A small learned check for risk in a message, behind the crisis phrases.

Phrase rules are exact about what they catch and blind to wording nobody wrote down: on blind
sets they caught 62–84% of messages about a person's own risk. This model is a logistic
regression over word pairs and letter runs (so typos and new phrasings still share features
with what it was fitted on), fitted by `bench/train_crisis_model.py` on the labelled
development sets only. The fitted weights are data (signposting/data/crisis_model.json.gz); this
module only reads them and scores, in plain Python, so the bot needs no learning library.

Scoring is deterministic: the same text always gets the same score, and `explain` names the
features that pushed it, for the evaluation script (never for logs).
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from signposting.phrases import BREAK, words

MODEL_PATH = Path(__file__).resolve().parent / "data" / "crisis_model.json.gz"
FORMAT = 1
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


@dataclass(frozen=True)
class CrisisModel:
    """Fitted weights: for every known feature its idf and its coefficient."""

    intercept: float
    idf: Mapping[str, float]
    coef: Mapping[str, float]
    spellings: Mapping[str, str]

    def features(self, text: str) -> dict[str, float]:
        return weighted(term_counts(words(text, self.spellings)), self.idf)

    def score(self, text: str) -> float:
        """How likely the message is about the writer's own risk, from 0 to 1."""
        features = self.features(text)
        if not features:
            return 0.0
        z = self.intercept + sum(value * self.coef[f] for f, value in features.items())
        return 1.0 / (1.0 + math.exp(-z))

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
) -> None:
    """Write a fitted model: `weights` holds (feature, idf, coefficient)."""
    payload = {
        "format": FORMAT,
        "about": dict(about),
        "intercept": round(intercept, 6),
        "spellings": dict(sorted(spellings.items())),
        "features": {f: [round(idf, 5), round(coef, 5)] for f, idf, coef in sorted(weights)},
    }
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    path.write_bytes(gzip.compress(data, mtime=0))


def load(path: Path = MODEL_PATH) -> CrisisModel:
    payload = json.loads(gzip.decompress(path.read_bytes()))
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path}: crisis model format {payload.get('format')!r}, want {FORMAT}")
    features = payload["features"]
    return CrisisModel(
        intercept=float(payload["intercept"]),
        idf={f: float(v[0]) for f, v in features.items()},
        coef={f: float(v[1]) for f, v in features.items()},
        spellings=payload["spellings"],
    )


@lru_cache(maxsize=1)
def shipped() -> CrisisModel:
    """The model that ships with the bot, read once."""
    return load(MODEL_PATH)
