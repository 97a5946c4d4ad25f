"""The learned intent classifier behind the understanding step (dialogs/understanding.py).

A multinomial logistic regression over two views of a message, fitted offline by
`bench/train_understanding_model.py` (scikit-learn, a development dependency) and shipped as
numpy arrays (dialogs/data/intent_model.npz) that this module only reads and scores:

- its meaning: the shipped sentence encoder's 512 numbers (core/sentence_encoder.py), which
  place "hold off my check ins" near "pause" although they share no word;
- its letters and words: words, word pairs and letter runs of 2–5 inside each word (TF-IDF,
  each block scaled to length one), so a slip ("chekin", "paus") still shares most features
  with what the model was fitted on.

Probabilities are calibrated by one temperature fitted on predictions for writers the fit had
not seen (leave one blind writer out). The thresholds the step acts and asks at were chosen by
the training script on those predictions and on a development set the fit never sees, and
travel in the same file.

The examples are data beside the command table: each command's own words and examples
(`Command.examples`), and more in dialogs/data/understanding/*.yaml, one file per writing
voice, keyed by intent (`blind_u*.yaml`: the burned blind sets, one per writer). `load` checks the model was fitted on exactly these examples and knows
exactly the table's intents, so a command added without refitting stops the bot at start with
the command to run, not on someone's message.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from core import sentence_encoder
from dialogs.commands import Command, CommandTable

DATA = Path(__file__).resolve().parent / "data"
MODEL_PATH = DATA / "intent_model.npz"
EXAMPLES_DIR = DATA / "understanding"
FORMAT = 1
CHAR_SIZES = range(2, 6)
REFIT = "python bench/train_understanding_model.py"

LEAVE_ALONE = "leave_alone"
GREETING = "greeting"
THANKS = "thanks"
LOW_MOOD = "low_mood"
POLICY_QUESTION = "policy_question"
SUPPORT_NEED = "support_need"
NONE = "none"
OTHER_INTENTS = (LEAVE_ALONE, GREETING, THANKS, LOW_MOOD, POLICY_QUESTION, SUPPORT_NEED, NONE)
"""Intents that are not commands: what the bot does about them is said in
dialogs/conversation.py and the router's later stages."""

TABLE_VOICE = "table"
"""The group of the command table's own words and examples (always fitted on)."""


class IntentModelError(ValueError):
    """The shipped model does not fit the command table or its examples: refit it."""


def guessable_commands(table: CommandTable) -> list[Command]:
    """The commands a typed message in personal chat may be read as: typed, guessable, and
    not `faq` (a policy question is its own intent)."""
    return [c for c in table.available_in("personal") if c.guessable and c.name != "faq"]


def intents_of(table: CommandTable) -> list[str]:
    """Every intent the model must know for this table, sorted."""
    return sorted({c.name for c in guessable_commands(table)} | set(OTHER_INTENTS))


@dataclass(frozen=True)
class Example:
    text: str
    """As written (the reader tidies it as it tidies a message)."""
    intent: str
    voice: str


def voice_files(folder: Path = EXAMPLES_DIR) -> dict[str, dict[str, list[str]]]:
    """Each voice's examples by intent, as written in its file."""
    voices: dict[str, dict[str, list[str]]] = {}
    for path in sorted(folder.glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict) or not all(
            isinstance(items, list) and all(isinstance(t, str) for t in items)
            for items in loaded.values()
        ):
            raise IntentModelError(f"{path}: want a mapping of intent to a list of texts")
        voices[path.stem] = {str(intent): list(items) for intent, items in loaded.items()}
    return voices


def examples_for(table: CommandTable, folder: Path = EXAMPLES_DIR) -> list[Example]:
    """The examples the model is fitted on: each guessable command's own words and examples,
    then every voice file's; checked against the table (an intent nobody declared is an
    error, and so is an intent with no examples)."""
    known = set(intents_of(table))
    examples = [
        Example(text, command.name, TABLE_VOICE)
        for command in guessable_commands(table)
        for text in (*command.all_phrases, *command.examples)
    ]
    for voice, by_intent in voice_files(folder).items():
        unknown = sorted(set(by_intent) - known)
        if unknown:
            raise IntentModelError(
                f"{folder / voice}.yaml: {unknown} are neither commands in the command table "
                f"nor one of {sorted(OTHER_INTENTS)}"
            )
        examples += [
            Example(text.strip(), intent, voice)
            for intent, texts in by_intent.items()
            for text in texts
        ]
    missing = sorted(known - {e.intent for e in examples})
    if missing:
        raise IntentModelError(f"no examples for {missing}: add some to {folder}")
    return examples


def digest(examples: Iterable[Example]) -> str:
    """A fingerprint of the examples, so a model fitted on others is noticed."""
    lines = sorted(f"{e.intent}\t{e.voice}\t{e.text}" for e in examples)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def term_counts(cleaned: str, asks: bool) -> Counter[str]:
    """Words, word pairs and letter runs of 2–5 inside each word (padded with spaces, so a
    word's start and end count too); `asks`: the message had a question mark."""
    counts: Counter[str] = Counter()
    tokens = cleaned.split()
    for index, token in enumerate(tokens):
        counts["w " + token] += 1
        if index:
            counts["p " + tokens[index - 1] + " " + token] += 1
        padded = f" {token} "
        for size in CHAR_SIZES:
            for start in range(len(padded) - size + 1):
                counts["c " + padded[start : start + size]] += 1
    if asks:
        counts["q ?"] += 1
    return counts


def block_of(feature: str) -> str:
    """Letter runs are one block and everything else another, each scaled to length one, so
    the many letter runs of a long word cannot drown its words."""
    return "c" if feature.startswith("c ") else "w"


@dataclass(frozen=True)
class Thresholds:
    """Where the step acts, asks or gives up (chosen by the training script on the
    development set, never the fit's own examples)."""

    act: float
    """The top intent's probability to act on without asking."""
    act_changing: float
    """The same for a command that changes something (pause, stop ...) or being left alone."""
    margin: float
    """How far the top intent must lead the second to act."""
    ask: float
    """Below this nothing is close enough to ask about: the fallback."""
    in_dialog: float
    """While a dialog is in progress a read-only command must be this sure (a note about the
    week is not a command); nothing else is taken from a dialog."""

    def as_array(self) -> np.ndarray:
        return np.array(
            [self.act, self.act_changing, self.margin, self.ask, self.in_dialog], dtype=np.float64
        )

    @classmethod
    def from_array(cls, values: np.ndarray) -> Thresholds:
        act, act_changing, margin, ask, in_dialog = (float(v) for v in values)
        return cls(act, act_changing, margin, ask, in_dialog)


@dataclass(frozen=True)
class IntentModel:
    """Fitted weights: per intent, a weight for each encoder dimension and each known text
    feature, a bias, the calibration temperature, and the words slips are put right to."""

    intents: tuple[str, ...]
    features: Mapping[str, int]
    idf: np.ndarray
    text_weights: np.ndarray
    """(text features, intents)"""
    meaning_weights: np.ndarray
    """(encoder dimensions, intents)"""
    bias: np.ndarray
    temperature: float
    words: frozenset[str]
    thresholds: Thresholds
    examples_digest: str

    def __post_init__(self) -> None:
        size = len(self.intents)
        if (
            self.text_weights.shape != (len(self.features), size)
            or self.idf.shape != (len(self.features),)
            or self.meaning_weights.shape != (sentence_encoder.DIMENSIONS, size)
            or self.bias.shape != (size,)
            or not self.temperature > 0
            or not np.all(np.isfinite(self.text_weights))
            or not np.all(np.isfinite(self.meaning_weights))
        ):
            raise IntentModelError(
                f"intent model: weights of shape {self.text_weights.shape}, "
                f"{self.meaning_weights.shape}, {self.bias.shape} for {size} intents do not fit"
            )

    def text_vector(self, cleaned: str, asks: bool) -> tuple[np.ndarray, np.ndarray]:
        """The message's known text features: their rows and TF-IDF values, each block scaled
        to length one."""
        rows: list[int] = []
        values: list[float] = []
        blocks: list[str] = []
        for feature, count in term_counts(cleaned, asks).items():
            row = self.features.get(feature)
            if row is not None:
                rows.append(row)
                values.append((1.0 + math.log(count)) * float(self.idf[row]))
                blocks.append(block_of(feature))
        scaled = np.array(values, dtype=np.float64)
        marks = np.array(blocks)
        for block in ("c", "w"):
            chosen = marks == block
            norm = float(np.sqrt(np.sum(scaled[chosen] ** 2))) if chosen.any() else 0.0
            if norm:
                scaled[chosen] /= norm
        return np.array(rows, dtype=np.int64), scaled

    def probabilities(self, cleaned: str, asks: bool, vector: np.ndarray) -> np.ndarray:
        """Each intent's calibrated probability, in `intents` order."""
        rows, values = self.text_vector(cleaned, asks)
        logits = vector.astype(np.float64) @ self.meaning_weights + self.bias
        if len(rows):
            logits = logits + values @ self.text_weights[rows]
        logits = logits / self.temperature
        logits -= logits.max()
        odds = np.exp(logits)
        return odds / odds.sum()

    def check(self, table: CommandTable, examples: Sequence[Example]) -> None:
        """The model fits this table and was fitted on these examples, or say how to refit."""
        wanted = intents_of(table)
        if list(self.intents) != wanted:
            added = sorted(set(wanted) - set(self.intents))
            gone = sorted(set(self.intents) - set(wanted))
            raise IntentModelError(
                f"the intent model knows other intents than the command table (new: {added}, "
                f"gone: {gone}): refit it with `{REFIT}`"
            )
        if digest(examples) != self.examples_digest:
            raise IntentModelError(
                f"the intent model was fitted on other examples than the command table's and "
                f"{EXAMPLES_DIR.name}/: refit it with `{REFIT}`"
            )


def save(path: Path, model: IntentModel, about: Mapping[str, object]) -> None:
    """Write a fitted model as plain numpy arrays (no pickles)."""
    names = sorted(model.features, key=model.features.__getitem__)
    with path.open("wb") as file:
        np.savez_compressed(
            file,
            format=np.array(FORMAT),
            intents=np.array(model.intents),
            features=np.array(names),
            idf=model.idf.astype(np.float32),
            text_weights=model.text_weights.astype(np.float32),
            meaning_weights=model.meaning_weights.astype(np.float32),
            bias=model.bias.astype(np.float32),
            temperature=np.array(model.temperature),
            words=np.array(sorted(model.words)),
            thresholds=model.thresholds.as_array(),
            examples_digest=np.array(model.examples_digest),
            about=np.array(yaml.safe_dump(dict(about), sort_keys=True)),
        )


def load(path: Path = MODEL_PATH) -> IntentModel:
    """Read a model written by `save`; a damaged or foreign file is an IntentModelError."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            if int(arrays["format"]) != FORMAT:
                raise IntentModelError(
                    f"{path}: intent model format {int(arrays['format'])}, want {FORMAT}"
                )
            features = [str(f) for f in arrays["features"]]
            return IntentModel(
                intents=tuple(str(i) for i in arrays["intents"]),
                features={feature: row for row, feature in enumerate(features)},
                idf=arrays["idf"].astype(np.float64),
                text_weights=arrays["text_weights"].astype(np.float64),
                meaning_weights=arrays["meaning_weights"].astype(np.float64),
                bias=arrays["bias"].astype(np.float64),
                temperature=float(arrays["temperature"]),
                words=frozenset(str(w) for w in arrays["words"]),
                thresholds=Thresholds.from_array(arrays["thresholds"]),
                examples_digest=str(arrays["examples_digest"]),
            )
    except (OSError, KeyError, ValueError) as error:
        if isinstance(error, IntentModelError):
            raise
        raise IntentModelError(f"{path}: not a readable intent model ({error})") from error


@lru_cache(maxsize=1)
def shipped() -> IntentModel:
    """The model that ships with the bot, read once."""
    return load(MODEL_PATH)
