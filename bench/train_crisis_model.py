"""Fit the crisis model (signposting/crisis_model.py) on the development sets, and say how well
it generalises before writing it.

    python bench/train_crisis_model.py              # cross-check, then write the model
    python bench/train_crisis_model.py --check-only # cross-check only
    python bench/train_crisis_model.py --no-check   # write the model only (a minute)

Training data: every set in TRAINING_SETS. Positives are `crisis.positive`; negatives are
`crisis.idiom`, `crisis.policy`, `crisis.everyday` and the need messages. The blind set of the
current round (bench/data/crisis_heldout_9.yaml) is never read here.

Two parts are fitted on the same examples (signposting/crisis_model.py): a logistic regression
over word features, and a one-layer network over each text's sentence-encoder vector
(core/sentence_encoder.py, computed once per text here).

The cross-check leaves one set out at a time, fits on the rest, and scores the left-out set
with the phrase rules and the model together, at several thresholds: figures for wording the
model has not seen. Needs scikit-learn (a development dependency); the bot itself only reads
the written weights. Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import sentence_encoder  # noqa: E402
from core.config.supportconfig import CrisisModelSettings, SupportConfig  # noqa: E402
from core.phrases import words  # noqa: E402
from signposting import crisis_model  # noqa: E402
from signposting.crisis import combine, read_phrases  # noqa: E402

DATA = ROOT / "bench" / "data"
TRAINING_SETS = [
    DATA / "needs_dev.yaml",
    DATA / "needs_heldout_2.yaml",
    DATA / "crisis_heldout_3.yaml",
    DATA / "crisis_heldout_4.yaml",
    DATA / "crisis_heldout_5.yaml",
    DATA / "crisis_heldout_6.yaml",
    DATA / "crisis_heldout_7.yaml",
    DATA / "crisis_heldout_8.yaml",
    DATA / "crisis_train_a.yaml",
    DATA / "crisis_train_b.yaml",
    DATA / "crisis_train_c.yaml",
    DATA / "crisis_train_d.yaml",
    DATA / "crisis_train_e.yaml",
    DATA / "crisis_train_f.yaml",
    DATA / "crisis_train_g.yaml",
    DATA / "crisis_train_h.yaml",
    DATA / "crisis_train_i.yaml",
    DATA / "crisis_train_j.yaml",
    DATA / "crisis_train_k.yaml",
    DATA / "crisis_train_l.yaml",
    DATA / "crisis_train_m.yaml",
    DATA / "crisis_train_n.yaml",
    DATA / "crisis_train_o.yaml",
    DATA / "crisis_heldout_9.yaml",
    DATA / "crisis_train_p.yaml",
    DATA / "crisis_train_q.yaml",
    DATA / "crisis_train_r.yaml",
    DATA / "crisis_train_s.yaml",
    DATA / "crisis_train_t.yaml",
]
# The blind sets of this round and the one before: each written by a writer who saw no code, no
# rules and no other set, committed before the change it scores, scored once
# (bench/needs_eval.py; c1-c3 before training sets r and s, c4-c6 after). They join
# TRAINING_SETS when the next round's blind sets have been committed, never before.
BLIND_SETS = tuple(f"crisis_c{number}.yaml" for number in range(1, 7))
# Blind understanding sets already scored once (issue 19's first two rounds): everyday bot
# traffic in many voices, so the model learns that "stop messaging me" is a request.
SCORED_UNDERSTANDING_SETS = (
    *(DATA / "heldout" / f"understanding_u{number}.yaml" for number in range(1, 7)),
    DATA / "understanding_dev.yaml",
)
NEGATIVE_KINDS = ("idiom", "policy", "everyday", "needs", "clinical", "third_party")
POSITIVE_KINDS = ("positive", "act")
KIND_OF = {"positive": "self", "act": "act", "third_party": "someone_else"}
"""The kinds head's label for each part of a set; every other part is 'none'."""
KINDS_C = 1.0
THRESHOLDS = (0.3, 0.4, 0.45, 0.5, 0.6, 0.7)
VETO_BELOW = CrisisModelSettings().veto_below
TUNED_ON = ("needs_dev", "needs_heldout_2")
URGENT_HELP_COMMAND = "urgent help"
C = 10.0
CHAR_MIN_DF = 2
HIDDEN_UNITS = 256
MEANING_WEIGHT = 0.4
"""The meaning network's share of the score, chosen on the 18 left-out writers of 2026-11-24
(README, crisis section): at 0.4 beside the words recall rose about a point at the same false
alarms; alone, the network catches less than the words."""


def read_set(path: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(path.read_text()) or {}
    crisis = data.get("crisis") or {}
    return {
        "positive": list(crisis.get("positive") or []),
        "idiom": list(crisis.get("idiom") or []),
        "policy": list(crisis.get("policy") or []),
        "everyday": list(crisis.get("everyday") or []),
        "act": list(crisis.get("act") or []),
        "third_party": list(crisis.get("third_party") or []),
        "clinical": list(crisis.get("clinical") or []),
        "needs": [item["text"] for item in data.get("needs") or []],
    }


@lru_cache(maxsize=1)
def bot_traffic() -> tuple[str, ...]:
    """What the bot hears all day and must never take for a crisis: its own typed commands
    (crisis comes before commands) and HR questions for the FAQ channel (the FAQ's entries and
    its tuning questions; never its blind set). Always negatives, never left out."""
    from dialogs.router import default_commands

    texts = [
        phrase
        for command in default_commands().commands
        if command.typed and command.name != URGENT_HELP_COMMAND
        for phrase in command.all_phrases
    ]
    faq = yaml.safe_load((ROOT / "core" / "faq" / "data" / "faq.yaml").read_text())
    for entry in faq["entries"]:
        texts += [entry["question"], *entry.get("phrasings", [])]
    tuning = yaml.safe_load((ROOT / "tests" / "fixtures" / "faq_eval.yaml").read_text())
    for part in ("tune", "tune_seen", "out_of_scope"):
        texts += [item["q"] if isinstance(item, dict) else item for item in tuning.get(part, [])]
    for path in SCORED_UNDERSTANDING_SETS:
        texts += [item["text"] for item in yaml.safe_load(path.read_text())["messages"]]
    return tuple(texts)


def examples(sets: list[dict[str, list[str]]]) -> tuple[list[str], list[int], list[str]]:
    """Texts, labels (1: the writer's own risk, an act in progress included) and kinds (see
    crisis_model.KINDS) of these sets, plus the bot's traffic."""
    texts: list[str] = list(bot_traffic())
    labels: list[int] = [0] * len(texts)
    kinds: list[str] = ["none"] * len(texts)
    for one in sets:
        for part in (*POSITIVE_KINDS, *NEGATIVE_KINDS):
            texts += one[part]
            labels += [int(part in POSITIVE_KINDS)] * len(one[part])
            kinds += [KIND_OF.get(part, "none")] * len(one[part])
    return texts, labels, kinds


def encodings(texts: list[str]) -> dict[str, np.ndarray]:
    """Every distinct text's sentence-encoder vector, computed once."""
    distinct = sorted(set(texts))
    return dict(zip(distinct, sentence_encoder.shipped().embed(distinct), strict=True))


def fit_meaning(vectors: np.ndarray, labels: list[int]) -> crisis_model.Meaning:
    """The network over the encoder's vectors (scikit-learn's; the bot only reads its weights)."""
    from sklearn.neural_network import MLPClassifier

    network = MLPClassifier(
        hidden_layer_sizes=(HIDDEN_UNITS,),
        alpha=1e-3,
        early_stopping=True,
        max_iter=300,
        random_state=0,
    )
    network.fit(vectors, labels)
    return crisis_model.Meaning(
        hidden_weights=network.coefs_[0].astype(np.float32),
        hidden_bias=network.intercepts_[0].astype(np.float32),
        output_weights=network.coefs_[1][:, 0].astype(np.float32),
        output_bias=float(network.intercepts_[1][0]),
        weight=MEANING_WEIGHT,
    )


def fit_kinds(vectors: np.ndarray, kinds: list[str]) -> crisis_model.Kinds:
    """The kinds head: a multinomial logistic regression over the encoder's vectors. Each kind
    is weighed by the square root of how much rarer it is than the commonest: fully balanced,
    the 134 acts in progress outweighed thousands of everyday messages and the head called a
    forgotten pill an overdose; unweighted, it would hardly ever say 'act'."""
    from sklearn.linear_model import LogisticRegression

    targets = [crisis_model.KINDS.index(kind) for kind in kinds]
    seen = Counter(targets)
    weights = {kind: math.sqrt(max(seen.values()) / count) for kind, count in seen.items()}
    regression = LogisticRegression(C=KINDS_C, class_weight=weights, max_iter=5000)
    regression.fit(vectors, targets)
    if list(regression.classes_) != list(range(len(crisis_model.KINDS))):
        raise SystemExit(f"the kinds head needs examples of every kind: {crisis_model.KINDS}")
    return crisis_model.Kinds(
        weights=regression.coef_.T.astype(np.float32),
        bias=regression.intercept_.astype(np.float32),
    )


def fit(
    texts: list[str],
    labels: list[int],
    spellings: dict[str, str],
    vectors: dict[str, np.ndarray] | None = None,
    kinds: list[str] | None = None,
) -> crisis_model.CrisisModel:
    """Logistic regression on the model's own word features (so scoring in plain Python
    matches), and, given the texts' encoder vectors, the meaning network beside it."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    counts = [crisis_model.term_counts(words(text, spellings)) for text in texts]
    df: Counter[str] = Counter()
    for one in counts:
        df.update(one.keys())
    n = len(texts)
    idf = {
        feature: math.log((1 + n) / (1 + seen)) + 1
        for feature, seen in df.items()
        if seen >= CHAR_MIN_DF or crisis_model.block_of(feature) == "w"
    }
    index = {feature: i for i, feature in enumerate(sorted(idf))}
    rows, cols, values = [], [], []
    for row, one in enumerate(counts):
        for feature, value in crisis_model.weighted(one, idf).items():
            rows.append(row)
            cols.append(index[feature])
            values.append(value)
    matrix = csr_matrix((values, (rows, cols)), shape=(n, len(index)))
    regression = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    regression.fit(matrix, labels)
    coef = {feature: float(regression.coef_[0][i]) for feature, i in index.items()}
    meaning = kinds_head = someone_else = None
    if vectors is not None:
        stacked = np.stack([vectors[text] for text in texts])
        meaning = fit_meaning(stacked, labels)
        if kinds is not None:
            kinds_head = fit_kinds(stacked, kinds)
            about_others = [int(kind == "someone_else") for kind in kinds]
            someone_else = fit(texts, about_others, spellings, vectors)
    return crisis_model.CrisisModel(
        float(regression.intercept_[0]),
        idf,
        coef,
        spellings,
        meaning=meaning,
        kinds=kinds_head,
        someone_else=someone_else,
    )


def cross_check(
    named: dict[str, dict[str, list[str]]],
    support: SupportConfig,
    vectors: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Leave each crisis-only set out in turn, fit on the rest, and give the verdict of phrases
    and model together (signposting.crisis.combine) on wording the model was not fitted on.

    The two need sets are not left out: the phrases were tuned on them, so their figures would
    say nothing about new wording."""
    spellings = dict(support.detection.spellings)
    figures: dict[str, Any] = {}
    readings = {
        text: read_phrases(words(text, spellings), support)
        for one in named.values()
        for texts in one.values()
        for text in texts
    }
    for left_out, held in named.items():
        if left_out in TUNED_ON:
            continue
        rest = [one for name, one in named.items() if name != left_out]
        texts, labels, _ = examples(rest)
        model = fit(texts, labels, spellings, vectors)
        per_kind: dict[str, Any] = {}
        for kind in (*POSITIVE_KINDS, *NEGATIVE_KINDS):
            texts = held[kind]
            if not texts:
                continue
            scores = [model.score(text, vectors[text]) for text in texts]
            rules = [readings[text].signal is not None for text in texts]
            per_kind[kind] = {"n": len(texts), "rules": round(sum(rules) / len(texts), 4)}
            for threshold in THRESHOLDS:
                at = CrisisModelSettings(threshold=threshold, veto_below=VETO_BELOW)
                hits = [
                    combine(readings[text], score, at) is not None
                    for text, score in zip(texts, scores, strict=True)
                ]
                per_kind[kind][f"with_model_{threshold}"] = round(sum(hits) / len(texts), 4)
        figures[left_out] = per_kind
    return figures


def _totals(figures: dict[str, Any]) -> dict[str, Any]:
    """Every left-out set pooled: each kind's share over all its messages."""
    totals: dict[str, Any] = {}
    for kinds in figures.values():
        for kind, row in kinds.items():
            pooled = totals.setdefault(kind, {"n": 0})
            pooled["n"] += row["n"]
            for key, share in row.items():
                if key != "n":
                    pooled[key] = pooled.get(key, 0.0) + share * row["n"]
    return {
        kind: {
            key: (value if key == "n" else round(value / row["n"], 4)) for key, value in row.items()
        }
        for kind, row in totals.items()
    }


def _print(figures: dict[str, Any]) -> None:
    header = "set               kind        n  rules " + " ".join(f"≥{t:<5g}" for t in THRESHOLDS)
    print("left-out set: share flagged by the phrases alone, and by phrases and model together")
    print(f"at each threshold (veto_below {VETO_BELOW}); positive: recall, the rest: false alarms")
    print(header)
    for name, kinds in figures.items():
        for kind, row in kinds.items():
            cells = "  ".join(f"{100 * row[f'with_model_{t}']:5.1f}" for t in THRESHOLDS)
            print(f"{name:17} {kind:9} {row['n']:4}  {100 * row['rules']:5.1f}  {cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-only", action="store_true", help="cross-check, write nothing")
    parser.add_argument("--no-check", action="store_true", help="write the model, no cross-check")
    parser.add_argument("--out", type=Path, default=crisis_model.MODEL_PATH)
    parser.add_argument(
        "--sets", type=Path, nargs="+", default=TRAINING_SETS, help="training sets (YAML)"
    )
    args = parser.parse_args()
    if any(path.name in BLIND_SETS for path in args.sets):
        parser.error(f"{', '.join(BLIND_SETS)} are the blind sets of this round: never fit on them")

    support = SupportConfig()
    named = {path.stem: read_set(path) for path in args.sets}
    result: dict[str, Any] = {"C": C, "veto_below": VETO_BELOW, "meaning_weight": MEANING_WEIGHT}
    texts, labels, kinds = examples(list(named.values()))
    vectors = encodings(texts)  # every text of every set: the left-out ones too
    if not args.no_check:
        figures = cross_check(named, support, vectors)
        figures["all left out"] = _totals(figures)
        _print(figures)
        result["cross_check"] = figures
    if not args.check_only:
        model = fit(texts, labels, dict(support.detection.spellings), vectors, kinds)
        about = {
            "fitted_on": [path.name for path in args.sets],
            "positives": sum(labels),
            "negatives": len(labels) - sum(labels),
            "C": C,
            "hidden_units": HIDDEN_UNITS,
            "meaning_weight": MEANING_WEIGHT,
            "kinds": dict(Counter(kinds)),
            "kinds_C": KINDS_C,
        }
        weights = [(f, model.idf[f], model.coef[f]) for f in model.idf]
        crisis_model.save(
            args.out,
            model.intercept,
            weights,
            model.spellings,
            about,
            model.meaning,
            model.kinds,
            model.someone_else,
        )
        result.update(about, features=len(weights), written=str(args.out))
        print(f"\nwrote {args.out}: {len(weights)} features, {about}")
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
