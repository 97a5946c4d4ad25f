"""Fit the intent model (dialogs/intent_model.py), say how well it carries over to writing it has
not seen, choose the thresholds it acts and asks at, and write it.

    python bench/train_understanding_model.py               # cross-check, fit, choose, write
    python bench/train_understanding_model.py --check-only  # cross-check only, write nothing

Fitted on: each guessable command's own words and examples in the command table, the voice
files in dialogs/data/understanding/ (one per writing voice), and the shipped FAQ's questions
as policy questions (each weighed less: there are hundreds). Never on bench/data/understanding_dev.yaml, which chooses the thresholds,
nor on anything under bench/data/heldout/ (never read here).

1. Cross-check: leave one voice out at a time, fit on the rest (the table and the FAQ always
   in), predict the voice left out. The regularisation and the meaning's weight are chosen on
   these predictions, and so is the calibration temperature (least log loss).
2. Fit on everything with those settings.
3. Thresholds: every combination on a grid is scored on the development set with
   bench/understanding_eval.py's own judge (crisis aside); the one with the most messages acted
   on correctly wins, among those with "did you mean" on at most 10% and no wrong action that
   changes anything, fewest wrong actions breaking ties. The same thresholds are then applied
   to the cross-check's predictions, for a figure the thresholds were not chosen on.

Needs scikit-learn (a development dependency); the bot only reads the written arrays. Ends with
one line of JSON.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import yaml
from scipy import sparse
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine, report  # noqa: E402
from bench.understanding_eval import DATA, destructive, judge  # noqa: E402
from core import sentence_encoder  # noqa: E402
from core.faq.io import seed_entries  # noqa: E402
from dialogs import intent_model  # noqa: E402
from dialogs.intent_model import (  # noqa: E402
    MODEL_PATH,
    POLICY_QUESTION,
    TABLE_VOICE,
    Example,
    IntentModel,
    Thresholds,
    examples_for,
    intents_of,
    term_counts,
)
from dialogs.router import default_commands  # noqa: E402
from dialogs.understanding import (  # noqa: E402
    Cleaner,
    Probabilities,
    Understanding,
    example_words,
)

DEV = DATA / "understanding_dev.yaml"
FAQ_VOICE = "faq"
FAQ_WEIGHT = 0.3
"""Each FAQ question counts this much: there are hundreds, and at full weight every question
("options?", "where can i find immediate help") leans towards a policy question."""
MIN_DOCUMENTS = 2
"""A text feature must occur in this many examples to be kept (fewer is noise and bytes)."""
C_GRID = (32.0, 64.0)
MEANING_GRID = (1.0,)
IN_DIALOG = 0.95
"""Not tunable on the development set (it has no dialogs): a read-only command must be all but
certain to interrupt a dialog."""
GRID = {
    "act": (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8),
    "act_changing": (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9),
    "margin": (0.0, 0.1, 0.2, 0.3),
    "ask": (0.15, 0.2, 0.25, 0.3, 0.35, 0.4),
}
MAX_ASKED = 0.10
WRONG_COST = 4
"""A wrong action costs four right ones: acting wrongly is worse than asking."""


def training_examples() -> list[Example]:
    table = default_commands()
    examples = examples_for(table)
    for entry in seed_entries():
        examples += [
            Example(q, POLICY_QUESTION, FAQ_VOICE) for q in (entry.question, *entry.phrasings)
        ]
    return examples


class Features:
    """The two views of each text, computed once: encoder vectors and TF-IDF rows built by the
    model's own `text_vector`, so fitting and reading can never disagree."""

    def __init__(self, examples: list[Example]) -> None:
        self.words = example_words([e.text for e in examples])
        self.cleaner = Cleaner(self.words)
        self.cleaned = [self.cleaner(e.text) for e in examples]
        self.asks = ["?" in e.text for e in examples]
        self.meaning = sentence_encoder.shipped().embed(self.cleaned).astype(np.float64)

    def vocabulary(self, rows: list[int]) -> tuple[dict[str, int], np.ndarray]:
        documents: Counter[str] = Counter()
        for row in rows:
            documents.update(set(term_counts(self.cleaned[row], self.asks[row])))
        kept = sorted(f for f, n in documents.items() if n >= MIN_DOCUMENTS)
        total = len(rows)
        idf = np.array([math.log((1 + total) / (1 + documents[f])) + 1.0 for f in kept])
        return {f: i for i, f in enumerate(kept)}, idf

    def text_matrix(self, model: IntentModel, rows: list[int]) -> sparse.csr_matrix:
        data, indices, pointers = [], [], [0]
        for row in rows:
            columns, values = model.text_vector(self.cleaned[row], self.asks[row])
            indices += columns.tolist()
            data += values.tolist()
            pointers.append(len(indices))
        return sparse.csr_matrix((data, indices, pointers), shape=(len(rows), len(model.features)))


def blank_model(
    intents: list[str], features: dict[str, int], idf: np.ndarray, words: frozenset[str]
) -> IntentModel:
    size = len(intents)
    return IntentModel(
        intents=tuple(intents),
        features=features,
        idf=idf,
        text_weights=np.zeros((len(features), size)),
        meaning_weights=np.zeros((sentence_encoder.DIMENSIONS, size)),
        bias=np.zeros(size),
        temperature=1.0,
        words=words,
        thresholds=Thresholds(0.5, 0.5, 0.0, 0.2, IN_DIALOG),
        examples_digest="",
    )


def fit(
    features: Features,
    examples: list[Example],
    rows: list[int],
    intents: list[str],
    c: float,
    meaning_scale: float,
) -> IntentModel:
    """A model fitted on the given rows (temperature 1, thresholds to be chosen)."""
    vocabulary, idf = features.vocabulary(rows)
    model = blank_model(intents, vocabulary, idf, features.words)
    design = sparse.hstack(
        [
            sparse.csr_matrix(features.meaning[rows] * meaning_scale),
            features.text_matrix(model, rows),
        ]
    ).tocsr()
    labels = [examples[row].intent for row in rows]
    weights = [FAQ_WEIGHT if examples[row].voice == FAQ_VOICE else 1.0 for row in rows]
    classifier = LogisticRegression(C=c, max_iter=3000)
    classifier.fit(design, labels, sample_weight=weights)
    if list(classifier.classes_) != intents:
        raise SystemExit(f"the fit saw intents {list(classifier.classes_)}, want {intents}")
    coefficients = classifier.coef_.T
    dimensions = sentence_encoder.DIMENSIONS
    return IntentModel(
        intents=tuple(intents),
        features=vocabulary,
        idf=idf,
        text_weights=coefficients[dimensions:],
        meaning_weights=coefficients[:dimensions] * meaning_scale,
        bias=classifier.intercept_.copy(),
        temperature=1.0,
        words=features.words,
        thresholds=model.thresholds,
        examples_digest="",
    )


def logits(model: IntentModel, features: Features, rows: list[int]) -> np.ndarray:
    text = features.text_matrix(model, rows)
    return features.meaning[rows] @ model.meaning_weights + text @ model.text_weights + model.bias


def softmax(values: np.ndarray, temperature: float) -> np.ndarray:
    scaled = values / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    odds = np.exp(scaled)
    return odds / odds.sum(axis=1, keepdims=True)


def temperature_for(values: np.ndarray, truth: np.ndarray) -> float:
    """The temperature with the least log loss on predictions for unseen voices."""
    best, best_loss = 1.0, math.inf
    for temperature in np.arange(0.3, 3.01, 0.05):
        probabilities = softmax(values, float(temperature))
        loss = -float(np.mean(np.log(probabilities[np.arange(len(truth)), truth] + 1e-12)))
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return round(best, 2)


def cross_check(
    features: Features, examples: list[Example], intents: list[str], c: float, scale: float
) -> tuple[np.ndarray, dict[str, float]]:
    """Out-of-voice logits for every example of a voice file, and accuracy per voice."""
    voices = sorted({e.voice for e in examples} - {TABLE_VOICE, FAQ_VOICE})
    out = np.zeros((len(examples), len(intents)))
    accuracy: dict[str, float] = {}
    for voice in voices:
        train = [i for i, e in enumerate(examples) if e.voice != voice]
        test = [i for i, e in enumerate(examples) if e.voice == voice]
        model = fit(features, examples, train, intents, c, scale)
        out[test] = logits(model, features, test)
        truth = [intents.index(examples[i].intent) for i in test]
        accuracy[voice] = round(float(np.mean(out[test].argmax(axis=1) == truth)), 4)
    return out, accuracy


def dev_verdicts(understanding: Understanding, messages: list[dict]) -> Counter[str]:
    verdicts: Counter[str] = Counter()
    table = understanding.table
    for item in messages:
        reading = understanding.read(str(item["text"]))
        verdict = judge(item, reading, False, table)
        verdicts[verdict] += 1
        if verdict == "wrong" and destructive(table, reading):
            verdicts["destructive"] += 1
    return verdicts


def choose_thresholds(
    understanding: Understanding,
    messages: list[dict],
    readings: list[tuple[Example, Probabilities]],
) -> tuple[Thresholds, dict, dict]:
    """The grid point with the best score over the development set and the cross-check's
    predictions together: acted on correctly, less four times the wrong actions, with "did you
    mean" on at most 10% of the development set and no destructive wrong action there."""
    best: tuple[tuple, Thresholds, Counter[str], Counter[str]] | None = None
    for act, act_changing, margin, ask in itertools.product(*GRID.values()):
        if act_changing < act or ask > act:
            continue
        understanding.thresholds = Thresholds(act, act_changing, margin, ask, IN_DIALOG)
        dev = dev_verdicts(understanding, messages)
        held = out_of_voice_verdicts(understanding, readings)
        allowed = dev["ask"] <= MAX_ASKED * len(messages) and dev["destructive"] == 0
        score = sum(
            (v["correct"] - WRONG_COST * v["wrong"]) / n
            for v, n in ((dev, len(messages)), (held, len(readings)))
        )
        key = (allowed, round(score, 6), -dev["wrong"] - held["wrong"])
        if best is None or key > best[0]:
            best = (key, understanding.thresholds, dev, held)
    assert best is not None
    _, limits, dev, held = best
    understanding.thresholds = limits
    return limits, rates(dev, len(messages)), rates(held, len(readings))


def out_of_voice_readings(
    understanding: Understanding,
    out: np.ndarray,
    examples: list[Example],
    intents: list[str],
    temperature: float,
) -> list[tuple[Example, Probabilities]]:
    """The cross-check's predictions for the voice files' examples, as the step would see them."""
    rows = [i for i, e in enumerate(examples) if e.voice not in (TABLE_VOICE, FAQ_VOICE)]
    readings = []
    for row, values in zip(rows, softmax(out[rows], temperature), strict=True):
        order = np.argsort(-values)
        ranked = Probabilities(
            tuple(intents[i] for i in order), tuple(float(values[i]) for i in order)
        )
        readings.append((examples[row], ranked))
    return readings


def out_of_voice_verdicts(
    understanding: Understanding, readings: list[tuple[Example, Probabilities]]
) -> Counter[str]:
    """The current thresholds applied to the cross-check's predictions (the classifier alone:
    each example read as the step reads a message the table's words do not match)."""
    verdicts: Counter[str] = Counter()
    for example, ranked in readings:
        reading = understanding.decide(ranked, understanding.clean(example.text))
        verdict = judge(
            {"text": example.text, "intent": example.intent}, reading, False, understanding.table
        )
        verdicts[verdict] += 1
        if verdict == "wrong" and destructive(understanding.table, reading):
            verdicts["destructive"] += 1
    return verdicts


def rates(verdicts: Counter[str], total: int) -> dict[str, float]:
    return {
        "acted_correctly": round(verdicts["correct"] / total, 4),
        "did_you_mean": round(verdicts["ask"] / total, 4),
        "wrong_actions": round(verdicts["wrong"] / total, 4),
        "destructive_wrong_actions": verdicts["destructive"],
        "fallback_on_an_intent": round(verdicts["fallback"] / total, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check-only", action="store_true", help="cross-check, write nothing")
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    parser.add_argument("--explain", action="store_true", help="list cross-check wrong actions")
    parser.add_argument("--save", type=Path, help="also write the JSON line here")
    args = parser.parse_args()

    table = default_commands()
    intents = intents_of(table)
    examples = training_examples()
    features = Features(examples)
    truth = np.array([intents.index(e.intent) for e in examples])
    print(
        f"{len(examples)} examples, {len(intents)} intents, voices: "
        f"{dict(Counter(e.voice for e in examples))}"
    )

    settings: tuple[float, float] | None = None
    best_accuracy = -1.0
    results: dict[str, dict[str, float]] = {}
    out_of_voice: dict[tuple[float, float], np.ndarray] = {}
    for c, scale in itertools.product(C_GRID, MEANING_GRID):
        out, accuracy = cross_check(features, examples, intents, c, scale)
        mean = round(float(np.mean(list(accuracy.values()))), 4)
        results[f"C={c} meaning={scale}"] = {**accuracy, "mean": mean}
        print(f"  C={c:<5} meaning x{scale}: out-of-voice accuracy {mean:.1%} {accuracy}")
        out_of_voice[(c, scale)] = out
        if mean > best_accuracy:
            best_accuracy, settings = mean, (c, scale)
    assert settings is not None
    c, scale = settings
    out = out_of_voice[settings]
    held = [i for i, e in enumerate(examples) if e.voice not in (TABLE_VOICE, FAQ_VOICE)]
    temperature = temperature_for(out[held], truth[held])
    print(f"chosen: C={c}, meaning x{scale}, temperature {temperature}")
    figures: dict[str, object] = {
        "examples": len(examples),
        "intents": len(intents),
        "cross_check": results,
        "chosen": {"C": c, "meaning_scale": scale, "temperature": temperature},
        "out_of_voice_accuracy": best_accuracy,
    }
    if args.check_only:
        figures["machine"] = machine()
        report(figures, ("examples", "out_of_voice_accuracy"), args.save)
        return 0

    model = fit(features, examples, list(range(len(examples))), intents, c, scale)
    checked = examples_for(table)
    model = IntentModel(
        **{
            **model.__dict__,
            "temperature": temperature,
            "examples_digest": intent_model.digest(checked),
        }
    )
    understanding = Understanding(table, model)
    messages = yaml.safe_load(DEV.read_text())["messages"]
    readings = out_of_voice_readings(understanding, out, examples, intents, temperature)
    limits, dev, held_figures = choose_thresholds(understanding, messages, readings)
    model = IntentModel(**{**model.__dict__, "thresholds": limits})
    print(f"thresholds: {limits}")
    print(f"development set with them (crisis aside): {dev}")
    print(f"cross-check predictions with them: {held_figures}")
    if args.explain:
        for example, ranked in readings:
            reading = understanding.decide(ranked, understanding.clean(example.text))
            verdict = judge(
                {"text": example.text, "intent": example.intent},
                reading,
                False,
                understanding.table,
            )
            if verdict == "wrong":
                print(
                    f"  wrong: {example.voice}: {example.text!r} ({example.intent}) read "
                    f"{reading.intent} {reading.score}"
                )
    about = {
        "fitted_by": "bench/train_understanding_model.py",
        "examples": len(examples),
        "C": c,
        "meaning_scale": scale,
        "out_of_voice_accuracy": best_accuracy,
    }
    intent_model.save(args.output, model, about)
    Understanding(table, intent_model.load(args.output))
    figures.update(
        thresholds=limits.__dict__,
        development_set=dev,
        out_of_voice_with_thresholds=held_figures,
        written=str(args.output.relative_to(ROOT))
        if args.output.is_relative_to(ROOT)
        else str(args.output),
        text_features=len(model.features),
        machine=machine(),
    )
    report(figures, ("examples", "out_of_voice_accuracy", "development_set"), args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
