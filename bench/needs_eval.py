"""Score need routing and the crisis check on a labelled set, and end with one line of JSON.

    python bench/needs_eval.py --set dev        # tune on this one
    python bench/needs_eval.py --set heldout    # report on this one; never tune on it
    python bench/needs_eval.py --set PATH [--config ORG_YAML] [--explain]

A set is YAML: `needs:` a list of {text, needs: [ids]} (an empty list means no need), and
`crisis:` with lists `positive` (must fire), `idiom`, `policy` and optionally `everyday` (must
not fire). Crisis figures are for phrases and the learned model together, with the phrases'
share of the recall alone beside it.

A blind crisis set (bench/data/heldout/crisis_c*.yaml) is YAML `messages:` a list of {text,
label, class}: label `risk` (the writer's own), `third_party` (worry about someone else) or
`no_risk`; class is the writer's kind of message. For these the card the bot would show is
scored, per class: at-risk (`self`), 999 first (`emergency`), helpers (`someone_else`) or none.
Recall counts the at-risk and 999-first cards on risk messages; a false alarm is any crisis card
on a no-risk message; third-party worries should get the helpers' card. `--set` may be given
several times.

Every crisis figure is for the check as the bot runs it in personal chat (`detect_in_chat`): told
whether the understanding step is sure the message asks for one of the bot's commands.

Need routing is right for a message when the set of needs found equals the labelled set
exactly (an empty set for a message with no need). "Any correct need" is, over messages with
at least one labelled need, the share where at least one need found is labelled.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config.orgconfig import load_org_config  # noqa: E402
from core.config.supportconfig import SupportConfig  # noqa: E402
from dialogs.router import default_commands  # noqa: E402
from dialogs.understanding import Understanding, asks_the_bot  # noqa: E402
from signposting import crisis_model  # noqa: E402
from signposting.crisis import CrisisSignal, detect  # noqa: E402
from signposting.needs import detect_needs, explain  # noqa: E402

SETS = {
    "dev": ROOT / "bench" / "data" / "needs_dev.yaml",
    "heldout": ROOT / "bench" / "data" / "needs_heldout_2.yaml",
}


@lru_cache(maxsize=1)
def _understanding() -> Understanding:
    return Understanding(default_commands())


def detect_in_chat(text: str, support) -> CrisisSignal | None:
    """The crisis check as the bot runs it on a message in personal chat with no dialog in
    progress: told whether the understanding step is sure the message asks for a command."""
    understanding = _understanding()
    reading = understanding.read(text)
    return detect(text, support, asks_the_bot=asks_the_bot(reading, understanding.table, text))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def evaluate(data: dict[str, Any], support) -> dict[str, Any]:
    """Every figure for one labelled set."""
    need_ids = [need.id for need in support.needs]
    counts = {need: {"tp": 0, "fp": 0, "fn": 0} for need in need_ids}
    exact = any_right = with_need = 0
    unknown: set[str] = set()
    misses: list[dict[str, Any]] = []
    items = data.get("needs") or []
    for item in items:
        gold = set(item.get("needs") or [])
        unknown |= gold - set(need_ids)
        found = {match.need for match in detect_needs(item["text"], support)}
        for need in need_ids:
            if need in found and need in gold:
                counts[need]["tp"] += 1
            elif need in found:
                counts[need]["fp"] += 1
            elif need in gold:
                counts[need]["fn"] += 1
        if found == gold:
            exact += 1
        else:
            misses.append({"text": item["text"], "labelled": sorted(gold), "found": sorted(found)})
        if gold:
            with_need += 1
            any_right += bool(found & gold)
    per_need = {
        need: {
            "precision": _ratio(c["tp"], c["tp"] + c["fp"]),
            "recall": _ratio(c["tp"], c["tp"] + c["fn"]),
            "support": c["tp"] + c["fn"],
        }
        for need, c in counts.items()
    }
    crisis = data.get("crisis") or {}
    positive = crisis.get("positive") or []
    idiom = crisis.get("idiom") or []
    policy = crisis.get("policy") or []
    everyday = crisis.get("everyday") or []
    fired = lambda texts: [t for t in texts if detect_in_chat(t, support) is not None]  # noqa: E731
    missed_crisis = [t for t in positive if detect_in_chat(t, support) is None]
    by_phrases = [t for t in positive if detect(t, support, use_model=False) is not None]
    idiom_alarms, policy_alarms = fired(idiom), fired(policy)
    need_text_alarms = fired([item["text"] for item in items])
    everyday_alarms = fired(everyday)
    return {
        "crisis_check_ms": _time_per_message(positive + idiom + policy + everyday, support),
        "messages": len(items),
        "routing_exact": _ratio(exact, len(items)),
        "any_correct_need": _ratio(any_right, with_need),
        "per_need": per_need,
        "crisis_recall": _ratio(len(positive) - len(missed_crisis), len(positive)),
        "crisis_positive": len(positive),
        "crisis_recall_phrases_only": _ratio(len(by_phrases), len(positive)),
        "false_alarm_idiom": _ratio(len(idiom_alarms), len(idiom)),
        "idiom": len(idiom),
        "false_alarm_policy": _ratio(len(policy_alarms), len(policy)),
        "policy": len(policy),
        "false_alarm_need_messages": _ratio(len(need_text_alarms), len(items)),
        "false_alarm_everyday": _ratio(len(everyday_alarms), len(everyday)),
        "everyday": len(everyday),
        "unknown_labels": sorted(unknown),
        "_misses": misses,
        "_crisis_missed": missed_crisis,
        "_idiom_alarms": idiom_alarms,
        "_policy_alarms": policy_alarms,
        "_need_text_alarms": need_text_alarms,
        "_everyday_alarms": everyday_alarms,
    }


CARDS = ("self", "emergency", "someone_else", "none")


def evaluate_messages(messages: list[dict[str, Any]], support) -> dict[str, Any]:
    """The card each message of a blind crisis set would get, per label and class."""
    per_class: dict[str, dict[str, Any]] = {}
    totals: dict[str, dict[str, int]] = {}
    for item in messages:
        signal = detect_in_chat(item["text"], support)
        card = signal.kind if signal is not None else "none"
        label, kind = item["label"], item.get("class", "")
        row = per_class.setdefault(f"{label}/{kind}", {"n": 0, **dict.fromkeys(CARDS, 0)})
        row["n"] += 1
        row[card] += 1
        total = totals.setdefault(label, {"n": 0, **dict.fromkeys(CARDS, 0)})
        total["n"] += 1
        total[card] += 1

    def at_risk(row: dict[str, int]) -> int:
        return row["self"] + row["emergency"]

    summary = {}
    if "risk" in totals:
        summary["recall"] = _ratio(at_risk(totals["risk"]), totals["risk"]["n"])
    if "no_risk" in totals:
        row = totals["no_risk"]
        summary["false_alarms"] = _ratio(row["n"] - row["none"], row["n"])
    if "third_party" in totals:
        row = totals["third_party"]
        summary["third_party_helpers_card"] = _ratio(row["someone_else"], row["n"])
        summary["third_party_at_risk_card"] = _ratio(at_risk(row), row["n"])
    for name, row in per_class.items():
        label = name.split("/", 1)[0]
        if label == "risk":
            row["recall"] = _ratio(at_risk(row), row["n"])
            row["emergency_first"] = _ratio(row["emergency"], row["n"])
        elif label == "no_risk":
            row["false_alarms"] = _ratio(row["n"] - row["none"], row["n"])
        else:
            row["helpers_card"] = _ratio(row["someone_else"], row["n"])
            row["at_risk_card"] = _ratio(at_risk(row), row["n"])
    return {"messages": len(messages), **summary, "per_label": totals, "per_class": per_class}


def _print_messages(path: Path, result: dict[str, Any]) -> None:
    print(f"set: {path} ({result['messages']} messages)")
    for key in ("recall", "false_alarms", "third_party_helpers_card", "third_party_at_risk_card"):
        if key in result:
            print(f"  {key.replace('_', ' ')}: {_percent(result[key])}")
    print("  per class                                  n   at-risk  999-first  helpers   none")
    for name, row in sorted(result["per_class"].items()):
        print(
            f"  {name:<40}{row['n']:>4}{row['self']:>9}{row['emergency']:>10}"
            f"{row['someone_else']:>9}{row['none']:>7}"
        )


def _time_per_message(texts: list[str], support: SupportConfig) -> float | None:
    """Mean wall time of one crisis check (phrases and model), after a first call loads them."""
    if not texts:
        return None
    detect(texts[0], support)
    started = time.perf_counter()
    for text in texts:
        detect(text, support)
    return round(1000 * (time.perf_counter() - started) / len(texts), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--set",
        action="append",
        help="heldout, dev, or a path to a YAML set (may be repeated; default: dev)",
    )
    parser.add_argument("--config", help="an organisation YAML (default: the bundled example)")
    parser.add_argument(
        "--explain", action="store_true", help="list every miss with the phrases that matched"
    )
    args = parser.parse_args(argv)
    support = load_org_config(Path(args.config) if args.config else None).support
    names = args.set or ["dev"]
    paths = [SETS.get(name, Path(name)) for name in names]
    loaded = [yaml.safe_load(path.read_text(encoding="utf-8")) or {} for path in paths]
    if all("messages" in data for data in loaded):
        results = {}
        for path, data in zip(paths, loaded, strict=True):
            results[path.stem] = evaluate_messages(data["messages"], support)
            _print_messages(path, results[path.stem])
        if len(paths) > 1:
            pooled = [item for data in loaded for item in data["messages"]]
            results["all"] = evaluate_messages(pooled, support)
            _print_messages(Path("all sets together"), results["all"])
        print(json.dumps(results, sort_keys=True))
        return 0
    if len(paths) > 1:
        parser.error("several --set only for blind crisis sets (`messages:`)")
    path, data = paths[0], loaded[0]
    result = evaluate(data, support)

    print(f"set: {path} ({result['messages']} need messages)")
    if result["unknown_labels"]:
        print(f"warning: labels that are not need ids: {', '.join(result['unknown_labels'])}")
    print("\nper need               precision   recall   labelled")
    for need, figures in result["per_need"].items():
        print(
            f"  {need:<22}{_percent(figures['precision']):>9}{_percent(figures['recall']):>9}"
            f"{figures['support']:>11}"
        )
    print(
        "\nneed routing right (the needs found equal the labelled set exactly, "
        f"an empty set included): {_percent(result['routing_exact'])}"
    )
    print(
        "any correct need (messages with a labelled need where at least one need found is "
        f"labelled): {_percent(result['any_correct_need'])}"
    )
    print(
        f"\ncrisis recall: {_percent(result['crisis_recall'])} of {result['crisis_positive']}"
        f" (the phrases alone: {_percent(result['crisis_recall_phrases_only'])})"
    )
    print(
        f"crisis false alarms on idiom: {_percent(result['false_alarm_idiom'])} "
        f"of {result['idiom']}"
    )
    print(
        f"crisis false alarms on policy talk: {_percent(result['false_alarm_policy'])} "
        f"of {result['policy']}"
    )
    print(
        "crisis false alarms on the need messages: "
        f"{_percent(result['false_alarm_need_messages'])} of {result['messages']}"
    )
    if result["crisis_check_ms"] is not None:
        print(f"time: {result['crisis_check_ms']} ms a message for the crisis check")
    if result["everyday"]:
        print(
            "crisis false alarms on everyday hard news: "
            f"{_percent(result['false_alarm_everyday'])} of {result['everyday']}"
        )
    if args.explain:
        if names[0] == "heldout":
            print("\n(--explain is not shown for the held-out set: it is not for tuning)")
        else:
            print("\nneed misses:")
            for miss in result["_misses"]:
                print(f"  {miss['text']!r}: labelled {miss['labelled']}, found {miss['found']}")
                for finding in explain(miss["text"], support):
                    print(
                        f"      {finding.need}: {finding.phrase!r} on {finding.matched!r}"
                        f" -> {finding.outcome}"
                    )
            keys = ("_crisis_missed", "_idiom_alarms", "_policy_alarms", "_need_text_alarms")
            for key in (*keys, "_everyday_alarms"):
                for text in result[key]:
                    signal = detect_in_chat(text, support)
                    why = f" ({signal.rule}: {signal.phrase!r})" if signal else ""
                    model = crisis_model.shipped()
                    pushes = ", ".join(f"{f[2:]!r} {w:+.2f}" for f, w in model.explain(text, 4))
                    print(f"  {key.strip('_')}: {text!r}{why}")
                    print(f"      model {model.score(text):.2f}: {pushes}")
    summary = {k: v for k, v in result.items() if not k.startswith("_")}
    summary["set"] = names[0]
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
