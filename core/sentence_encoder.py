"""A small pretrained sentence encoder, so the crisis check knows what words mean.

The crisis model's bag of words only knows the words it was fitted on; a person in crisis
uses others ("ah'm scunnered wi livin", "tell my little girl i loved her"). This encoder maps
a whole message to 512 numbers such that messages meaning similar things land near each other,
learned by Google from far more text than we will ever label: the Universal Sentence Encoder
lite (Apache-2.0; see data/sentence_encoder.md for where the weights come from and how they
were converted). It runs with onnxruntime on the CPU, one thread, a few milliseconds a message.

`Pieces` splits text into the encoder's word pieces exactly as the published tokenizer does
(best total score over the piece vocabulary); `SentenceEncoder.embed` runs the network.
"""

from __future__ import annotations

import gzip
import json
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA / "sentence_encoder.onnx"
VOCABULARY_PATH = DATA / "sentence_encoder_vocab.json.gz"
DIMENSIONS = 512
WORD_START = "\u2581"
UNKNOWN = 0
RESERVED = 6
"""The first pieces of the vocabulary are control symbols, never matched in text."""
BATCH = 32
"""Texts run through the network together: attention grows with the square of the longest."""


class Pieces:
    """The encoder's tokenizer: the split of a text into vocabulary pieces whose scores sum
    highest, with a character no piece covers read as one unknown piece (runs of them as one)."""

    def __init__(self, vocabulary: Sequence[Sequence[object]]) -> None:
        self._texts = [str(entry[0]) for entry in vocabulary]
        self._pieces: dict[str, tuple[float, int]] = {}
        for index, (text, score) in enumerate(vocabulary):
            if index >= RESERVED:
                self._pieces[str(text)] = (float(score or 0.0), index)
        self._longest = max(len(text) for text in self._pieces)

    def words(self) -> frozenset[str]:
        """The lower-case words the vocabulary holds whole (one piece from a word start)."""
        return frozenset(
            text[1:]
            for text in self._pieces
            if text.startswith(WORD_START)
            and len(text) > 1
            and text[1:].isalpha()
            and text[1:].islower()
        )

    def encode(self, text: str) -> list[int]:
        normal = unicodedata.normalize("NFKC", text)
        if normal:
            normal = WORD_START + normal.replace(" ", WORD_START)
        size = len(normal)
        # ending[end] holds (start, score, piece) for every piece that ends at `end`.
        ending: list[list[tuple[int, float, int]]] = [[] for _ in range(size + 1)]
        for start in range(size):
            found = False
            for length in range(1, min(self._longest, size - start) + 1):
                hit = self._pieces.get(normal[start : start + length])
                if hit is not None:
                    ending[start + length].append((start, hit[0], hit[1]))
                    found = True
            if not found:
                ending[start + 1].append((start, 0.0, UNKNOWN))
        best = [0.0] * (size + 1)
        chosen = [UNKNOWN] * (size + 1)
        for end in range(size + 1):
            for start, score, piece in ending[end]:
                total = score + best[start]
                # As published: a best of exactly 0 counts as "none yet", and of two equal
                # totals the piece that starts later wins.
                if best[end] == 0 or total >= best[end]:
                    best[end] = total
                    chosen[end] = piece
        backwards: list[int] = []
        end = size
        while end > 0:
            piece = chosen[end]
            backwards.append(piece)
            end -= 1 if piece == UNKNOWN else len(self._texts[piece])
        merged: list[int] = []
        for piece in backwards:
            if not (piece == UNKNOWN and merged and merged[-1] == UNKNOWN):
                merged.append(piece)
        return merged[::-1]


class SentenceEncoder:
    """The network and its tokenizer, loaded once; `embed` gives unit-length vectors."""

    def __init__(self, model_path: Path = MODEL_PATH, vocabulary_path: Path = VOCABULARY_PATH):
        import onnxruntime

        self.pieces = Pieces(json.loads(gzip.decompress(vocabulary_path.read_bytes())))
        options = onnxruntime.SessionOptions()
        # One message at a time on a bot that shares its cores with the event loop and the
        # sender: more threads cost more than they win at this size.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = [item.name for item in self._session.get_inputs()]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row of DIMENSIONS numbers per text (an empty text gets zeros)."""
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for first in range(0, len(texts), BATCH):
            result[first : first + BATCH] = self._embed_batch(texts[first : first + BATCH])
        return result

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        encoded = [self.pieces.encode(text) for text in texts]
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        rows = [row for row, pieces in enumerate(encoded) if pieces]
        if not rows:
            return result
        positions = [(slot, at) for slot, row in enumerate(rows) for at in range(len(encoded[row]))]
        values = [piece for row in rows for piece in encoded[row]]
        feed = {
            self._inputs[0]: np.array(positions, dtype=np.int64).reshape(-1, 2),
            self._inputs[1]: np.array(values, dtype=np.int64),
        }
        result[rows] = self._session.run(None, feed)[0]
        return result


@lru_cache(maxsize=1)
def shipped() -> SentenceEncoder:
    """The encoder that ships with the bot, loaded once per process."""
    return SentenceEncoder(MODEL_PATH, VOCABULARY_PATH)


@lru_cache(maxsize=256)
def vector(text: str) -> np.ndarray:
    """One text's vector from the shipped encoder, kept for a while: the crisis check and the
    understanding step read the same message in one turn, and the network runs once for both."""
    row = shipped().embed([text])[0]
    row.setflags(write=False)
    return row
