"""Score the understanding step (dialogs/understanding.py) and the crisis check beside it on a
labelled set, and end with one line of JSON.

    python bench/understanding_eval.py --set dev             # tune on this one
    python bench/understanding_eval.py --set heldout         # u1, u2 and u3: report, never tune
    python bench/understanding_eval.py --set PATH [--explain] [--save FILE]

A set is YAML: `messages:` a list of {text, intent, argument?}; intents are command names
("pause", "my check ins"), or leave_alone, greeting, thanks, low_mood, policy_question,
support_need, none.

Each message is read as the bot reads it in personal chat with no dialog in progress: the
understanding step, then the crisis check told whether the message was read as a plain request
to the bot. Then:

- acted on correctly: no crisis card, the step was sure, and what the bot does is what the
  label asks (for `none`: the fallback). Being left alone is done by `stop` (or `pause` when
  weeks are named), so leave_alone and stop count as one action. A labelled argument must be
  read too (pause: the weeks).
- did you mean: the step asked (unsure), with no crisis card.
- wrong action: the step was sure and did something other than the label asks; destructive
  when what it did stops, pauses or deletes (a confirmation still stands before deleting).
- crisis card: shown on a message labelled with no risk (every message in these sets).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine, report  # noqa: E402
from core.orgconfig import load_org_config  # noqa: E402
from dialogs.router import default_commands  # noqa: E402
from dialogs.understanding import (  # noqa: E402
    LEAVE_ALONE,
    NONE,
    NOTHING,
    UNSURE,
    Reading,
    Understanding,
    is_request,
    weeks_in,
)
from signposting.crisis import detect  # noqa: E402

DATA = ROOT / "bench" / "data"
SETS = {
    "dev": [DATA / "understanding_dev.yaml"],
    "heldout": [DATA / "heldout" / f"understanding_u{n}.yaml" for n in (1, 2, 3)],
    **{f"u{n}": [DATA / "heldout" / f"understanding_u{n}.yaml"] for n in (1, 2, 3)},
}
DESTRUCTIVE = frozenset({"stop", "pause", "delete my data", "yes delete my data"})


def action(intent: str, argument: str) -> str:
    """What the bot does for an intent: being left alone is `stop`, or `pause` with weeks."""
    if intent == LEAVE_ALONE:
        return "pause" if weeks_in(argument or "") else "stop"
    return intent


def same_argument(intent: str, labelled: str, read: str) -> bool:
    if not labelled:
        return True
    if intent in ("pause", LEAVE_ALONE):
        return weeks_in(labelled) == weeks_in(read or "")
    return labelled.strip().lower() in (read or "").strip().lower()


def judge(item: dict[str, Any], reading: Reading, crisis: bool) -> str:
    """correct, ask, wrong, fallback (a message with an intent left to the fallback) or crisis."""
    gold = str(item["intent"])
    if crisis:
        return "crisis"
    if reading.outcome == UNSURE:
        return "ask"
    if reading.outcome == NOTHING:
        return "correct" if gold == NONE else "fallback"
    wanted = action(gold, str(item.get("argument") or ""))
    done = action(reading.intent, reading.argument)
    if gold == LEAVE_ALONE and reading.intent == LEAVE_ALONE:
        done = wanted
    if done == wanted and same_argument(gold, str(item.get("argument") or ""), reading.argument):
        return "correct"
    return "wrong"


def evaluate(messages: list[dict[str, Any]], understanding: Understanding, support) -> dict:
    per_intent: dict[str, Counter[str]] = {}
    outcomes: Counter[str] = Counter()
    wrong: list[dict[str, Any]] = []
    destructive = 0
    for item in messages:
        text = str(item["text"])
        reading = understanding.read(text)
        crisis = detect(text, support, request=is_request(reading)) is not None
        verdict = judge(item, reading, crisis)
        outcomes[verdict] += 1
        per_intent.setdefault(str(item["intent"]), Counter())[verdict] += 1
        if verdict == "wrong" and action(reading.intent, reading.argument) in DESTRUCTIVE:
            destructive += 1
        if verdict != "correct":
            wrong.append(
                {
                    "text": text,
                    "labelled": item["intent"],
                    "read": reading.intent,
                    "argument": reading.argument,
                    "outcome": "crisis card" if crisis else reading.outcome,
                    "score": reading.score,
                    "closest": list(reading.closest),
                }
            )
    total = len(messages)
    return {
        "messages": total,
        "acted_correctly": round(outcomes["correct"] / total, 4),
        "did_you_mean": round(outcomes["ask"] / total, 4),
        "wrong_actions": round(outcomes["wrong"] / total, 4),
        "wrong_actions_count": outcomes["wrong"],
        "destructive_wrong_actions": destructive,
        "fallback_on_an_intent": round(outcomes["fallback"] / total, 4),
        "crisis_card": round(outcomes["crisis"] / total, 4),
        "crisis_card_count": outcomes["crisis"],
        "per_intent": {
            intent: {
                "messages": sum(counts.values()),
                "correct": round(counts["correct"] / sum(counts.values()), 4),
                "asked": counts["ask"],
                "wrong": counts["wrong"],
                "fallback": counts["fallback"],
                "crisis": counts["crisis"],
            }
            for intent, counts in sorted(per_intent.items())
        },
        "_misses": wrong,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="dev", help="dev, heldout, u1, u2, u3, or a YAML path")
    parser.add_argument("--config", help="organisation YAML (default: the bundled example)")
    parser.add_argument("--explain", action="store_true", help="list misses (dev sets only)")
    parser.add_argument("--save", type=Path, help="also write the JSON line here")
    args = parser.parse_args()
    paths = SETS.get(args.set) or [Path(args.set)]
    messages: list[dict[str, Any]] = []
    for path in paths:
        messages += yaml.safe_load(path.read_text())["messages"]
    support = load_org_config(args.config).support
    started = time.perf_counter()
    understanding = Understanding(default_commands())
    build_seconds = round(time.perf_counter() - started, 2)
    result = evaluate(messages, understanding, support)
    print(f"set: {args.set} ({result['messages']} messages from {len(paths)} file(s))")
    print("\nper intent                messages  correct  asked  wrong  fallback  crisis")
    for intent, row in result["per_intent"].items():
        print(
            f"  {intent:<24}{row['messages']:>8}{100 * row['correct']:>8.1f}%{row['asked']:>7}"
            f"{row['wrong']:>7}{row['fallback']:>10}{row['crisis']:>8}"
        )
    held_out = args.set in ("heldout", "u1", "u2", "u3")
    if args.explain and held_out:
        print("\n(--explain is not shown for a held-out set: it is not for tuning)")
    elif args.explain:
        print("\nmisses:")
        for miss in result["_misses"]:
            print(
                f"  {miss['text']!r}: labelled {miss['labelled']}, read {miss['read']}"
                f" {miss['argument']!r} ({miss['outcome']}, {miss['score']}) {miss['closest']}"
            )
    figures = {k: v for k, v in result.items() if not k.startswith("_")}
    figures.update(set=args.set, build_seconds=build_seconds, machine=machine(), **_targets(result))
    print()
    report(
        figures,
        (
            "acted_correctly",
            "did_you_mean",
            "wrong_actions",
            "destructive_wrong_actions",
            "crisis_card",
            "targets_met",
        ),
        args.save,
    )
    return 0


def _targets(result: dict[str, Any]) -> dict[str, Any]:
    met = {
        "acted_correctly >= 0.85": result["acted_correctly"] >= 0.85,
        "did_you_mean <= 0.10": result["did_you_mean"] <= 0.10,
        "wrong_actions <= 0.01": result["wrong_actions"] <= 0.01,
        "no destructive wrong action": result["destructive_wrong_actions"] == 0,
        "crisis_card <= 0.01": result["crisis_card"] <= 0.01,
    }
    return {"targets": met, "targets_met": all(met.values())}


if __name__ == "__main__":
    sys.exit(main())
