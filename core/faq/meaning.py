"""What the FAQ's entries mean, as the sentence encoder reads them (core/sentence_encoder.py), so a
question in a trainer's own words finds the entry that means it even when no word is shared.

Each entry is read as several texts: its question, each other phrasing, and each sentence or list
item of its answer (`passages`). Every
text is encoded once and kept under a digest of the encoder and the text (`digest`), so an edit
re-encodes only the texts it changed, and every replica and every restart reuses what is stored
(core/faq/store.py keeps them in the `faq_vector` table). `MeaningIndex` holds the vectors of the
live entries as one matrix and scores a question's vector against all of them in one product;
an entry is as close as its nearest text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core import sentence_encoder

ENCODER = "use-lite-512"
"""Names the encoder in every digest: a different encoder never reuses these vectors."""

SECOND_TEXT_WEIGHT = 0.2
"""How much an entry's second-nearest text counts in `MeaningIndex.agreement`: an entry whose
question, phrasings and answer agree that it means the question outranks one that a single
sentence happens to be near (a near-miss HR entry that shares one line's wording). Chosen leaving
one burned blind set out at a time (f1-f8; 0.1-0.5 tried): 0.2-0.35 was chosen in 15 of the 16
folds; on the left-out sets it gained 3 of 810 questions' top-1 among 10,023 entries and lost 1 at
the shipped size, a small gain, not a plateau broken."""

PASSAGE_MIN_WORDS = 3
"""Shorter lines of an answer ("In practice:") say too little to be read on their own."""

Encode = Callable[[Sequence[str]], np.ndarray]

_BULLET = re.compile(r"^\s*(?:[-*]|\d+\.)\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def digest(text: str) -> str:
    """The key a text's vector is stored under: the encoder's name and the text, hashed."""
    return hashlib.sha256(f"{ENCODER}\n{text}".encode()).hexdigest()


def encode_with_shipped(texts: Sequence[str]) -> np.ndarray:
    return sentence_encoder.shipped().embed(list(texts))


def passages(answer: str) -> list[str]:
    """An answer's sentences and list items, markdown bold removed: a question about one fact
    ("how can we use daily huddles?") is close to the line that states it, not to the whole
    answer, whose other lines pull its vector elsewhere."""
    found: list[str] = []
    for line in answer.splitlines():
        line = _BULLET.sub("", line).replace("**", "").strip()
        for sentence in _SENTENCE_END.split(line):
            if len(sentence.split()) >= PASSAGE_MIN_WORDS:
                found.append(sentence)
    return found


@dataclass(frozen=True)
class EntryTexts:
    """The texts of one entry that are encoded: its question and other phrasings, and the
    passages of its answer."""

    entry_id: str
    askings: tuple[str, ...]
    answer: str

    def texts(self) -> list[str]:
        return list(dict.fromkeys([*self.askings, *passages(self.answer)]))


def missing_vectors(
    entries: Iterable[EntryTexts], known: Mapping[str, np.ndarray], encode: Encode
) -> dict[str, np.ndarray]:
    """Vectors for the entries' texts that `known` lacks, by digest (each text encoded once)."""
    wanted: dict[str, str] = {}
    for entry in entries:
        for text in entry.texts():
            key = digest(text)
            if key not in known:
                wanted.setdefault(key, text)
    if not wanted:
        return {}
    vectors = np.asarray(encode(list(wanted.values())), dtype=np.float32)
    return dict(zip(wanted, vectors, strict=True))


class MeaningIndex:
    """The live entries' vectors as one matrix, an entry's rows together: `agreement` gives,
    for each entry, the cosine between a question and the nearest of its texts, and that blended
    with the second nearest."""

    def __init__(self, entries: Sequence[EntryTexts], vectors: Mapping[str, np.ndarray]):
        rows: list[np.ndarray] = []
        starts: list[int] = []
        for entry in entries:
            starts.append(len(rows))
            rows.extend(vectors[digest(text)] for text in entry.texts())
        self.size = len(entries)
        self.matrix = (
            np.vstack(rows).astype(np.float32, copy=False)
            if rows
            else np.zeros((0, sentence_encoder.DIMENSIONS), np.float32)
        )
        self._starts = np.asarray(starts, dtype=np.int64)
        self._lengths = np.diff(np.append(self._starts, len(rows)))

    def __len__(self) -> int:
        return self.size

    def agreement(self, question: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(closeness, agreement) per entry, in entry order: the nearest text's cosine, and that
        blended with the second nearest's (SECOND_TEXT_WEIGHT; an entry of one text keeps its
        closeness), which the ranking uses so that one chance sentence counts for less."""
        if not self.size:
            empty = np.zeros(0, dtype=np.float32)
            return empty, empty
        scores = self.matrix @ np.asarray(question, dtype=np.float32)
        nearest = np.maximum.reduceat(scores, self._starts)
        others = np.where(scores >= np.repeat(nearest, self._lengths), -np.inf, scores)
        second = np.maximum.reduceat(others, self._starts)
        second = np.where(np.isneginf(second), nearest, second)
        return nearest, (1 - SECOND_TEXT_WEIGHT) * nearest + SECOND_TEXT_WEIGHT * second
