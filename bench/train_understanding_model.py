"""Fit the intent model (dialogs/intent_model.py), say how well it carries over to writers it
has not seen, choose the thresholds it acts and asks at, and write it.

    python bench/train_understanding_model.py               # cross-check, fit, choose, write
    python bench/train_understanding_model.py --check-only  # cross-check only, write nothing

Fitted on: each guessable command's own words and examples in the command table, the voice
files in dialogs/data/understanding/ (one per writing voice; `blind_u*.yaml` are the burned
blind sets, one per writer), and the shipped FAQ's questions as policy questions (each weighed
less: there are hundreds). Never on bench/data/understanding_dev.yaml, and never on a set
under bench/data/heldout/ (not read here: the burned ones arrive as voice files).

1. Cross-check, the honest figure: leave one blind writer out at a time, fit on everything
   else (the words slips are put right to come from the fit's own examples too), and read
   each of the writer's messages exactly as the step reads it (the table's words, tidying,
   the classifier). The calibration temperature is the one with the least log loss on these
   predictions.
2. Fit on everything.
3. Thresholds: every combination on a grid is scored with bench/understanding_eval.py's own
   judge (crisis aside) on the cross-check's readings and on the development set read by the
   full fit; the one with the most messages acted on correctly, less four for each wrong
   action (twenty for a destructive one) wins, among those with "did you mean" on at most 10%
   of each, and with a guess that changes something (pause, stop, export ...) or leaves a
   person alone needing more certainty than a read-only one. The cross-check figures per intent are then given with the chosen thresholds.

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
    Reading,
    Understanding,
    example_words,
)

DEV = DATA / "understanding_dev.yaml"
FAQ_VOICE = "faq"
FAQ_WEIGHT = 0.3
"""Each FAQ question counts this much: there are hundreds, and at full weight every question
("options?", "where can i find immediate help") leans towards a policy question."""
BLIND = "blind_"
"""Voice files of writers who wrote blind (the burned held-out sets): left out one at a time."""
MIN_DOCUMENTS = 2
"""A text feature must occur in this many examples to be kept (fewer is noise and bytes)."""
C = 32.0
IN_DIALOG = 0.95
"""Not tunable on the development set (it has no dialogs): a read-only command must be all but
certain to interrupt a dialog."""
GRID = {
    "act": (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8),
    "act_changing": (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9),
    "margin": (0.0, 0.05, 0.1, 0.15, 0.2, 0.3),
    "ask": (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4),
}
MAX_ASKED = 0.10
WRONG_COST = 4
"""A wrong action costs four right ones: acting wrongly is worse than asking."""
DESTRUCTIVE_COST = 20
"""A wrong action that changes something (stops or pauses the check-ins) costs twenty."""

Pending = Reading | tuple[Probabilities, str]
"""A message read up to the thresholds (Understanding.interpret)."""


def training_examples() -> list[Example]:
    table = default_commands()
    examples = examples_for(table)
    for entry in seed_entries():
        examples += [
            Example(q, POLICY_QUESTION, FAQ_VOICE) for q in (entry.question, *entry.phrasings)
        ]
    return examples


class Encodings:
    """Sentence-encoder vectors by tidied text, kept across folds (most texts tidy alike)."""

    def __init__(self) -> None:
        self._kept: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self._kept})
        if missing:
            for text, vector in zip(
                missing, sentence_encoder.shipped().embed(missing), strict=True
            ):
                self._kept[text] = vector.astype(np.float64)
        return np.array([self._kept[t] for t in texts])


class Features:
    """The two views of each text, tidied with the words of the examples fitted on: encoder
    vectors and TF-IDF rows built by the model's own `text_vector`, so fitting and reading can
    never disagree."""

    def __init__(self, examples: list[Example], rows: list[int], encodings: Encodings) -> None:
        self.words = example_words([examples[row].text for row in rows])
        cleaner = Cleaner(self.words)
        self.cleaned = {row: cleaner(examples[row].text) for row in rows}
        self.asks = {row: "?" in examples[row].text for row in rows}
        self.meaning = encodings([self.cleaned[row] for row in rows])

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


def fit(
    examples: list[Example], rows: list[int], intents: list[str], encodings: Encodings
) -> IntentModel:
    """A model fitted on the given rows (temperature 1, thresholds to be chosen), claiming the
    shipped examples' digest so the step can be built on it here."""
    features = Features(examples, rows, encodings)
    vocabulary, idf = features.vocabulary(rows)
    size = len(intents)
    blank = IntentModel(
        intents=tuple(intents),
        features=vocabulary,
        idf=idf,
        text_weights=np.zeros((len(vocabulary), size)),
        meaning_weights=np.zeros((sentence_encoder.DIMENSIONS, size)),
        bias=np.zeros(size),
        temperature=1.0,
        words=features.words,
        thresholds=Thresholds(0.5, 0.5, 0.0, 0.2, IN_DIALOG),
        examples_digest="",
    )
    design = sparse.hstack(
        [sparse.csr_matrix(features.meaning), features.text_matrix(blank, rows)]
    ).tocsr()
    labels = [examples[row].intent for row in rows]
    weights = [FAQ_WEIGHT if examples[row].voice == FAQ_VOICE else 1.0 for row in rows]
    classifier = LogisticRegression(C=C, max_iter=3000)
    classifier.fit(design, labels, sample_weight=weights)
    if list(classifier.classes_) != intents:
        raise SystemExit(f"the fit saw intents {list(classifier.classes_)}, want {intents}")
    coefficients = classifier.coef_.T
    dimensions = sentence_encoder.DIMENSIONS
    return IntentModel(
        **{
            **blank.__dict__,
            "text_weights": coefficients[dimensions:],
            "meaning_weights": coefficients[:dimensions],
            "bias": classifier.intercept_.copy(),
            "examples_digest": intent_model.digest(examples_for(default_commands())),
        }
    )


def softmax(values: np.ndarray, temperature: float) -> np.ndarray:
    scaled = values / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    odds = np.exp(scaled)
    return odds / odds.sum(axis=-1, keepdims=True)


def tempered(pending: Pending, temperature: float) -> Pending:
    """A reading's probabilities at another temperature (fitted at 1: the log probabilities
    are the logits, shifted)."""
    if isinstance(pending, Reading):
        return pending
    read, said = pending
    values = softmax(np.log(np.maximum(np.array(read.values), 1e-300)), temperature)
    order = np.argsort(-values)
    ranked = tuple(read.ranked[i] for i in order)
    return Probabilities(ranked, tuple(float(values[i]) for i in order)), said


def temperature_for(pending: list[Pending], truth: list[str]) -> float:
    """The temperature with the least log loss on the classifier's readings of unseen writers."""
    pairs = [(p[0], t) for p, t in zip(pending, truth, strict=True) if not isinstance(p, Reading)]
    logs = [np.log(np.maximum(np.array(r.values), 1e-300)) for r, _ in pairs]
    gold = [r.ranked.index(t) if t in r.ranked else 0 for (r, t) in pairs]
    best, best_loss = 1.0, math.inf
    for temperature in np.arange(0.3, 3.01, 0.05):
        loss = -float(
            np.mean(
                [
                    np.log(softmax(v, float(temperature))[g] + 1e-12)
                    for v, g in zip(logs, gold, strict=False)
                ]
            )
        )
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return round(best, 2)


def cross_check(
    examples: list[Example], intents: list[str], encodings: Encodings
) -> tuple[list[dict], list[Pending]]:
    """Each blind writer's messages read by the step with a model fitted without them."""
    table = default_commands()
    writers = sorted({e.voice for e in examples if e.voice.startswith(BLIND)})
    items: list[dict] = []
    pending: list[Pending] = []
    for writer in writers:
        train = [i for i, e in enumerate(examples) if e.voice != writer]
        model = fit(examples, train, intents, encodings)
        understanding = Understanding(table, model)
        for example in examples:
            if example.voice == writer:
                items.append({"text": example.text, "intent": example.intent, "set": writer})
                pending.append(understanding.interpret(example.text))
        print(f"  left out {writer}: {sum(e.voice == writer for e in examples)} messages")
    return items, pending


def verdicts_of(
    understanding: Understanding, items: list[dict], pending: list[Pending]
) -> list[tuple[str, bool]]:
    """Each message's verdict by the eval's judge under the current thresholds (crisis aside),
    and whether a wrong one changed something."""
    table = understanding.table
    out = []
    for item, found in zip(items, pending, strict=True):
        reading = found if isinstance(found, Reading) else understanding.decide(*found)
        verdict = judge(item, reading, False, table)
        out.append((verdict, verdict == "wrong" and destructive(table, reading)))
    return out


def tally(verdicts: list[tuple[str, bool]]) -> Counter[str]:
    counts = Counter(v for v, _ in verdicts)
    counts["destructive"] = sum(d for _, d in verdicts)
    return counts


def choose_thresholds(
    understanding: Understanding, sets: list[tuple[list[dict], list[Pending]]]
) -> Thresholds:
    """The grid point with the best score summed over the sets (acted on correctly, less the
    cost of wrong actions, as shares of each set), with "did you mean" on at most 10% of each."""
    best: tuple[tuple, Thresholds] | None = None
    for act, act_changing, margin, ask in itertools.product(*GRID.values()):
        if ask > act or act_changing <= act:
            continue  # a guess that changes something must be surer than one that only reads
        understanding.thresholds = Thresholds(act, act_changing, margin, ask, IN_DIALOG)
        allowed, score = True, 0.0
        for items, pending in sets:
            counts = tally(verdicts_of(understanding, items, pending))
            allowed &= counts["ask"] <= MAX_ASKED * len(items)
            score += (
                counts["correct"]
                - WRONG_COST * (counts["wrong"] - counts["destructive"])
                - DESTRUCTIVE_COST * counts["destructive"]
            ) / len(items)
        key = (allowed, round(score, 6))
        if best is None or key > best[0]:
            best = (key, understanding.thresholds)
    assert best is not None
    understanding.thresholds = best[1]
    return best[1]


def rates(verdicts: list[tuple[str, bool]]) -> dict[str, float]:
    counts, total = tally(verdicts), len(verdicts)
    return {
        "messages": total,
        "acted_correctly": round(counts["correct"] / total, 4),
        "did_you_mean": round(counts["ask"] / total, 4),
        "wrong_actions": round(counts["wrong"] / total, 4),
        "destructive_wrong_actions": counts["destructive"],
        "fallback_on_an_intent": round(counts["fallback"] / total, 4),
    }


def by_key(items: list[dict], verdicts: list[tuple[str, bool]], key: str) -> dict[str, dict]:
    groups: dict[str, list[tuple[str, bool]]] = {}
    for item, verdict in zip(items, verdicts, strict=True):
        groups.setdefault(str(item[key]), []).append(verdict)
    return {name: rates(group) for name, group in sorted(groups.items())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check-only", action="store_true", help="cross-check, write nothing")
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    parser.add_argument("--explain", action="store_true", help="list cross-check misses")
    parser.add_argument("--save", type=Path, help="also write the JSON line here")
    args = parser.parse_args()

    table = default_commands()
    intents = intents_of(table)
    examples = training_examples()
    encodings = Encodings()
    print(
        f"{len(examples)} examples, {len(intents)} intents, voices: "
        f"{dict(Counter(e.voice for e in examples))}"
    )
    items, pending = cross_check(examples, intents, encodings)
    temperature = temperature_for(pending, [item["intent"] for item in items])
    pending = [tempered(p, temperature) for p in pending]
    print(f"temperature {temperature}")

    model = fit(examples, list(range(len(examples))), intents, encodings)
    model = IntentModel(**{**model.__dict__, "temperature": temperature})
    understanding = Understanding(table, model)
    messages = yaml.safe_load(DEV.read_text())["messages"]
    dev_pending = [understanding.interpret(str(m["text"])) for m in messages]
    limits = choose_thresholds(understanding, [(items, pending), (messages, dev_pending)])
    model = IntentModel(**{**model.__dict__, "thresholds": limits})
    held = verdicts_of(understanding, items, pending)
    dev = verdicts_of(understanding, messages, dev_pending)
    print(f"thresholds: {limits}")
    print(f"development set (crisis aside): {rates(dev)}")
    print(f"leave one writer out: {rates(held)}")
    per_intent = by_key(items, held, "intent")
    print("\nleave one writer out, per intent   messages  correct  asked  wrong  destructive")
    for intent, row in per_intent.items():
        print(
            f"  {intent:<32}{row['messages']:>6}{100 * row['acted_correctly']:>8.1f}%"
            f"{100 * row['did_you_mean']:>6.1f}%{100 * row['wrong_actions']:>6.1f}%"
            f"{row['destructive_wrong_actions']:>6}"
        )
    for writer, row in by_key(items, held, "set").items():
        print(f"  {writer}: {row}")
    if args.explain:
        for item, found, (verdict, _) in zip(items, pending, held, strict=True):
            if verdict != "correct":
                reading = found if isinstance(found, Reading) else understanding.decide(*found)
                print(
                    f"  {verdict}: {item['set']}: {item['text']!r} ({item['intent']}) read "
                    f"{reading.intent} {reading.argument!r} {reading.outcome} {reading.score}"
                )
    figures: dict[str, object] = {
        "examples": len(examples),
        "intents": len(intents),
        "C": C,
        "temperature": temperature,
        "thresholds": limits.__dict__,
        "leave_one_writer_out": rates(held),
        "leave_one_writer_out_per_intent": per_intent,
        "leave_one_writer_out_per_writer": by_key(items, held, "set"),
        "development_set": rates(dev),
        "machine": machine(),
    }
    if not args.check_only:
        intent_model.save(
            args.output,
            model,
            {"fitted_by": "bench/train_understanding_model.py", "examples": len(examples), "C": C},
        )
        Understanding(table, intent_model.load(args.output))
        figures.update(
            written=str(args.output.relative_to(ROOT))
            if args.output.is_relative_to(ROOT)
            else str(args.output),
            text_features=len(model.features),
        )
    report(figures, ("examples", "leave_one_writer_out", "development_set"), args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
