"""Fit the crisis model (signposting/crisis_model.py) on the development sets, and say how well
it generalises before writing it.

    python bench/train_crisis_model.py              # cross-check, then write the model
    python bench/train_crisis_model.py --check-only # cross-check only
    python bench/train_crisis_model.py --no-check   # write the model only (a few minutes)
    python bench/train_crisis_model.py --check-only --leave-out crisis_c1 crisis_c4
    python bench/train_crisis_model.py --from-predictions   # figures and sweep, no fitting

Training data: every set in TRAINING_SETS. Positives are `crisis.positive` and `crisis.act`;
negatives are `crisis.idiom`, `policy`, `everyday`, `clinical`, `third_party` and the need
messages. Blind sets of earlier rounds (`messages:` of {text, label, class}) join with their
risk messages as positives (acts in progress as acts), third parties as such and the rest as
negatives. The blind sets of the round being scored (crisis_c9 on) are never read here.

Two parts are fitted on the same examples (signposting/crisis_model.py): a logistic regression
over word features, and a one-layer network over each text's sentence-encoder vector
(core/sentence_encoder.py, computed once per text here), with a kinds head and a nested model
for worry about someone else.

The cross-check leaves one set (one writer) out at a time, fits the whole model on the rest,
and keeps the model's readings of every left-out message (--predictions). From those it gives
the card each message would get, per class, at the configured settings, and tries other
settings (SWEEP) on the same predictions: settings are chosen there, never on a fitted set.
Needs scikit-learn (a development dependency); the bot itself only reads the written weights.
Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
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
from signposting.crisis import (  # noqa: E402
    PhraseReading,
    model_readings,
    needs_score,
    read_phrases,
    verdict,
)

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
    # The blind sets of the last three rounds, each scored once (bench/needs_eval.py) before it
    # joined: c1-c3 before training sets r and s, c4-c6 after, c7-c8 after training set u.
    # Their writers' voices (jokes, dialect, people fed up with the bot, third parties, their
    # own medicines) are the ones the model missed.
    *(DATA / "heldout" / f"crisis_c{number}.yaml" for number in range(1, 7)),
    DATA / "crisis_train_u.yaml",
    *(DATA / "heldout" / f"crisis_c{number}.yaml" for number in range(7, 9)),
    DATA / "crisis_train_v.yaml",
]
FIRST_BLIND_SET = 9
"""Blind crisis sets from crisis_c9 on belong to the round being scored: each written by a
writer who saw no code, no rules and no other set, committed before the change it scores. They
join TRAINING_SETS when the next round's blind sets have been committed, never before."""
# Blind understanding sets already scored once (issue 19's rounds): everyday bot traffic in
# many voices, so the model learns that "stop messaging me" is a request.
SCORED_UNDERSTANDING_SETS = (
    *(DATA / "heldout" / f"understanding_u{number}.yaml" for number in range(1, 11)),
    DATA / "understanding_dev.yaml",
)
PREDICTIONS = ROOT / "bench" / "results" / "crisis-cross-check-predictions.json"
NEGATIVE_KINDS = ("idiom", "policy", "everyday", "needs", "clinical", "third_party")
POSITIVE_KINDS = ("positive", "act")
KIND_OF = {"positive": "self", "act": "act", "third_party": "someone_else"}
"""The kinds head's label for each part of a set; every other part is 'none'."""
KINDS_C = 1.0
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


LABEL_OF = {"positive": "risk", "act": "risk", "third_party": "third_party"}
"""The blind sets' label for each part of a training set; every other part is 'no_risk'."""


def is_blind(path: Path) -> bool:
    """A blind crisis set of the round being scored (crisis_c9 on): never read here."""
    match = re.fullmatch(r"crisis_c(\d+)\.yaml", path.name)
    return match is not None and int(match[1]) >= FIRST_BLIND_SET


def message_part(label: str, kind: str) -> str:
    """The training part of a blind set's message (`messages:` of {text, label, class})."""
    if label == "risk":
        return "act" if kind.startswith("act_in_progress") else "positive"
    if label == "third_party":
        return "third_party"
    for part in ("idiom", "policy", "clinical"):
        if kind.startswith(part):
            return part
    return "everyday"


def class_name(kind: str) -> str:
    """A blind set's class without the set's own suffix ('joke_maskedc4' is 'joke_masked')."""
    return re.sub(r"c\d+$", "", kind)


def read_set(path: Path) -> dict[str, list[str]]:
    """A set's texts by part (see `message_part` for a blind set's `messages:`)."""
    data = yaml.safe_load(path.read_text()) or {}
    if "messages" in data:
        parts: dict[str, list[str]] = {part: [] for part in (*POSITIVE_KINDS, *NEGATIVE_KINDS)}
        for item in data["messages"]:
            parts[message_part(item["label"], item["class"])].append(item["text"])
        return parts
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


def labelled(path: Path) -> list[tuple[str, str, str]]:
    """(label, class, text) for every crisis message of a set: a blind set's own labels and
    classes, a training set's parts as classes."""
    data = yaml.safe_load(path.read_text()) or {}
    if "messages" in data:
        return [
            (item["label"], class_name(item["class"]), item["text"]) for item in data["messages"]
        ]
    parts = read_set(path)
    return [
        (LABEL_OF.get(part, "no_risk"), part, text)
        for part in (*POSITIVE_KINDS, *NEGATIVE_KINDS)
        if part != "needs"
        for text in parts[part]
    ]


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
    leave_out: dict[str, list[tuple[str, str, str]]],
    support: SupportConfig,
    vectors: dict[str, np.ndarray],
) -> list[dict[str, Any]]:
    """Leave each set of `leave_out` (one writer each) out in turn, fit the whole model (kinds
    head and the reader for someone else included) on the rest, and keep its readings of every
    left-out message: predictions on wording the model was not fitted on, from which `figures`
    gives the cards per class at any settings without fitting again."""
    spellings = dict(support.detection.spellings)
    predictions: list[dict[str, Any]] = []
    for left_out, messages in leave_out.items():
        rest = [one for name, one in named.items() if name != left_out]
        texts, labels, kinds = examples(rest)
        seen = set(texts) - {text for _, _, text in messages}
        model = fit(texts, labels, spellings, vectors, kinds)
        for label, kind, text in messages:
            score, readings = model_readings(model, text, vectors[text])
            predictions.append(
                {
                    "set": left_out,
                    "label": label,
                    "class": kind,
                    "text": text,
                    "score": round(score, 5),
                    "readings": {key: round(value, 5) for key, value in readings.items()},
                    "seen": text in seen,
                }
            )
        print(f"  left out {left_out}: {len(messages)} messages", flush=True)
    return predictions


CARDS = ("self", "emergency", "someone_else", "none")


def phrase_readings(
    predictions: list[dict[str, Any]], support: SupportConfig
) -> list[PhraseReading | None]:
    """The phrases' reading of each predicted message (None: no words), once for every sweep."""
    spellings = support.detection.spellings
    readings: list[PhraseReading | None] = []
    for one in predictions:
        tokens = words(one["text"], spellings)
        readings.append(read_phrases(tokens, support) if tokens else None)
    return readings


def figures(
    predictions: list[dict[str, Any]],
    readings: list[PhraseReading | None],
    settings: CrisisModelSettings,
) -> dict[str, dict[str, Any]]:
    """The card each left-out message gets (the phrases and the model's stored readings at
    `settings`), counted per class: recall (at-risk or 999-first card) on risk, false alarms
    (any crisis card) on no-risk, helpers' and at-risk cards on third parties."""
    rows: dict[str, dict[str, Any]] = {}
    for one, phrases in zip(predictions, readings, strict=True):
        if phrases is None:
            signal = None
        elif settings.enabled and needs_score(phrases, settings):
            signal = verdict(phrases, one["score"], one["readings"], settings)
        else:
            signal = phrases.signal
        card = signal.kind if signal is not None else "none"
        for name in (f"{one['label']}/{one['class']}", f"{one['label']}/ALL"):
            row = rows.setdefault(name, {"n": 0, **dict.fromkeys(CARDS, 0)})
            row["n"] += 1
            row[card] += 1
    for name, row in rows.items():
        label = name.split("/", 1)[0]
        at_risk = row["self"] + row["emergency"]
        if label == "risk":
            row["recall"] = round(at_risk / row["n"], 4)
        elif label == "no_risk":
            row["false_alarms"] = round(1 - row["none"] / row["n"], 4)
        else:
            row["helpers_card"] = round(row["someone_else"] / row["n"], 4)
            row["at_risk_card"] = round(at_risk / row["n"], 4)
    return dict(sorted(rows.items()))


def _print(rows: dict[str, dict[str, Any]]) -> None:
    print("class (left-out writers pooled)              n  at-risk 999-first helpers  none  figure")
    for name, row in rows.items():
        figure = next(
            f"{key} {100 * row[key]:.1f}%"
            for key in ("recall", "false_alarms", "helpers_card")
            if key in row
        )
        if "at_risk_card" in row:
            figure += f", at-risk card {100 * row['at_risk_card']:.1f}%"
        print(
            f"{name:<42}{row['n']:>5}{row['self']:>8}{row['emergency']:>9}"
            f"{row['someone_else']:>8}{row['none']:>6}  {figure}"
        )


SWEEP = {
    "threshold": (0.3, 0.35, 0.4, 0.45, 0.5),
    "joke_threshold": (0.35, 0.45, 0.55, 0.7),
    "request_threshold": (0.4, 0.5, 0.6, 0.7),
    "idiom_threshold": (0.4, 0.5, 0.6, 0.7),
    "veto_below": (0.1, 0.2),
}


def sweep(
    predictions: list[dict[str, Any]],
    readings: list[PhraseReading | None],
    base: CrisisModelSettings,
) -> list[dict[str, Any]]:
    """Settings tried on the cross-checked predictions (never on a fitted set): each one's
    worst risk class, pooled recall, acts' recall and worst no-risk class's false alarms."""
    tried = []
    for values in itertools.product(*SWEEP.values()):
        chosen = dict(zip(SWEEP, values, strict=True))
        if chosen["joke_threshold"] < chosen["threshold"]:
            continue
        if min(chosen["request_threshold"], chosen["idiom_threshold"]) < chosen["threshold"]:
            continue
        rows = figures(predictions, readings, base.model_copy(update=chosen))
        risk = {k: r["recall"] for k, r in rows.items() if "recall" in r and "/ALL" not in k}
        alarms = {
            k: r["false_alarms"] for k, r in rows.items() if "false_alarms" in r and "/ALL" not in k
        }
        acts = [r for k, r in rows.items() if k.startswith("risk/act")]
        tried.append(
            {
                **chosen,
                "recall": rows["risk/ALL"]["recall"],
                "worst_risk_class": min(risk.items(), key=lambda item: item[1]),
                "acts": min((r["recall"] for r in acts), default=None),
                "false_alarms": rows["no_risk/ALL"]["false_alarms"],
                "worst_no_risk_class": max(alarms.items(), key=lambda item: item[1]),
            }
        )
    return tried


def _report(
    predictions: list[dict[str, Any]],
    support: SupportConfig,
    settings: CrisisModelSettings,
    result: dict[str, Any],
) -> None:
    """Figures per class at the configured settings, then the best of the sweep."""
    readings = phrase_readings(predictions, support)
    rows = figures(predictions, readings, settings)
    print(f"cross-check at the configured settings ({settings.model_dump()}):")
    _print(rows)
    result["cross_check"] = rows
    tried = sorted(
        sweep(predictions, readings, settings),
        key=lambda row: (-row["recall"], row["false_alarms"]),
    )
    result["sweep_best"] = tried[:15]
    print("\nsettings swept on these predictions (best pooled recall first):")
    for one in tried[:15]:
        print("  " + ", ".join(f"{key} {value}" for key, value in one.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check-only", action="store_true", help="cross-check, write nothing")
    parser.add_argument("--no-check", action="store_true", help="write the model, no cross-check")
    parser.add_argument("--out", type=Path, default=crisis_model.MODEL_PATH)
    parser.add_argument(
        "--sets", type=Path, nargs="+", default=TRAINING_SETS, help="training sets (YAML)"
    )
    parser.add_argument(
        "--leave-out",
        nargs="+",
        metavar="STEM",
        help="the sets (file stems) the cross-check leaves out in turn (default: all but "
        f"{', '.join(TUNED_ON)}, on which the phrases were tuned)",
    )
    parser.add_argument(
        "--predictions",
        type=Path,
        default=PREDICTIONS,
        help="where the cross-check writes its predictions on left-out messages",
    )
    parser.add_argument(
        "--from-predictions",
        action="store_true",
        help="fit nothing: figures per class and the settings sweep from --predictions",
    )
    args = parser.parse_args()
    if any(is_blind(path) for path in args.sets):
        parser.error(f"crisis_c{FIRST_BLIND_SET} and later are blind sets: never fit on them")

    support = SupportConfig()
    settings = support.crisis.model
    result: dict[str, Any] = {"C": C, "veto_below": VETO_BELOW, "meaning_weight": MEANING_WEIGHT}
    if args.from_predictions:
        predictions = json.loads(args.predictions.read_text())["predictions"]
        _report(predictions, support, settings, result)
        print(json.dumps(result, sort_keys=True))
        return 0
    named = {path.stem: read_set(path) for path in args.sets}
    texts, labels, kinds = examples(list(named.values()))
    vectors = encodings(texts)  # every text of every set: the left-out ones too
    if not args.no_check:
        stems = args.leave_out or [name for name in named if name not in TUNED_ON]
        by_stem = {path.stem: path for path in args.sets}
        leave_out = {stem: labelled(by_stem[stem]) for stem in stems}
        predictions = cross_check(named, leave_out, support, vectors)
        args.predictions.write_text(
            json.dumps({"left_out": stems, "predictions": predictions}, ensure_ascii=False) + "\n"
        )
        _report(predictions, support, settings, result)
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
