"""Score the understanding step (dialogs/understanding.py) and the crisis check beside it on a
labelled set, and end with one line of JSON.

    python bench/understanding_eval.py --set dev             # tune on this one
    python bench/understanding_eval.py --set heldout         # u1-u12: burned, now fitted on
    python bench/understanding_eval.py --set PATH [--set PATH ...] [--explain] [--save FILE]

`--set` may be given several times: the sets are scored together, and each on its own
(`per_set`).

A set is YAML: `messages:` a list of {text, intent, argument?}; intents are command names
("pause", "my check ins"), or leave_alone, greeting, thanks, low_mood, policy_question,
support_need, none.

Each message is read as the bot reads it in personal chat with no dialog in progress: the
crisis check exactly as the bot runs it (told whether the understanding step is sure the
message asks for a command, `asks_the_bot`), then the understanding step. Then:

- acted on correctly: no crisis card, the step was sure, and what the bot does is what the
  label asks (for `none`: the fallback). A labelled argument must be read too (pause: the
  weeks, "2 weeks" or a bare "2"; report: the month, "january 2025" or "2025-01"). A policy
  question and `faq` asked in words ("I have a question about the attendance policy") do the
  same thing, the text goes to the FAQ, so either reading counts for either label. A request to be left alone is done as `stop`, or `pause` with the weeks it names, so
  for leave_alone and stop (or pause) either reading does the same thing and counts. Two
  commands with one handler (`start` and `resume`) do the same thing and count as one.
  `delete my data` asks "are you sure?" before it deletes anything (`Command.asks_first`), on
  its own words and on a guess alike: that question is its action.
- did you mean: the step asked (a "did you mean …?" card, or the leave-alone card, stop /
  pause / carry on), with no crisis card. Asking is not an action.
- wrong action: the bot did something other than the label asks without asking first: on a
  guess, or on the command table's own words used for something else (counted apart as
  `wrong_actions_exact_words`); destructive when what it did changes something
  (`Command.changes_state`: stop, pause, resume, start, export ...; not `delete my data`'s
  question, which changes nothing until the person says yes).
- fallback: a message with an intent that got the fallback.
- crisis card: shown on a message labelled with no risk (every message in these sets).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine, report  # noqa: E402
from core.config.orgconfig import load_org_config  # noqa: E402
from dialogs.commands import CommandTable  # noqa: E402
from dialogs.leadreport import choose_month  # noqa: E402
from dialogs.participation import ArgumentError, parse_weeks  # noqa: E402
from dialogs.router import default_commands  # noqa: E402
from dialogs.understanding import (  # noqa: E402
    CONFIRM,
    LEAVE_ALONE,
    MONTHS,
    NONE,
    NOTHING,
    POLICY_QUESTION,
    UNSURE,
    Reading,
    Understanding,
    asks_the_bot,
    weeks_in,
)
from signposting.crisis import detect  # noqa: E402

DATA = ROOT / "bench" / "data"
BURNED = range(1, 13)
"""Blind sets already scored once, now among the voice files the model is fitted on (a blind
set not yet scored is given by its path)."""
# The day the newest sets' labels were written: their writers wrote a month with no year
# ("report for march") as that month of 2026, as a lead asking in Teams that day would mean it.
LABELS_WRITTEN = date(2026, 12, 7)
SETS = {
    "dev": [DATA / "understanding_dev.yaml"],
    "heldout": [DATA / "heldout" / f"understanding_u{n}.yaml" for n in BURNED],
    **{f"u{n}": [DATA / "heldout" / f"understanding_u{n}.yaml"] for n in BURNED},
}


def held_out(path: Path) -> bool:
    return "heldout" in path.parts


def action(intent: str, argument: str) -> str:
    """What the bot does for an intent: being left alone is `stop`, or `pause` with weeks; a
    policy question sends the text to the FAQ, as `faq` and the question do."""
    if intent == LEAVE_ALONE:
        return "pause" if weeks_in(argument or "") else "stop"
    if intent == POLICY_QUESTION:
        return "faq"
    return intent


def labelled_weeks(labelled: str) -> int | None:
    """A labelled length: "2 weeks", "a fortnight", or a bare number of weeks ("2")."""
    text = labelled.strip().lower()
    return int(text) if text.isdigit() else weeks_in(text)


def labelled_month(labelled: str) -> str:
    """A labelled month as the step writes it: "2025-01" is "january 2025"."""
    found = re.fullmatch(r"(\d{4})-(\d{2})", labelled.strip())
    if found and 1 <= int(found.group(2)) <= 12:
        return f"{MONTHS[int(found.group(2)) - 1]} {found.group(1)}"
    return labelled.strip().lower()


def same_argument(intent: str, labelled: str, read: str, today: date = LABELS_WRITTEN) -> bool:
    if not labelled:
        return True
    if intent in ("pause", LEAVE_ALONE):
        return labelled_weeks(labelled) == weeks_in(read or "")
    if intent == "report":
        # The month the report handler would build: "march" with no year is the latest March
        # up to `today`, as it is for a lead asking in Teams.
        wanted = choose_month(labelled_month(labelled), today)
        return wanted is not None and choose_month(read or "", today) == wanted
    return labelled.strip().lower() in (read or "").strip().lower()


def refused(reading: Reading) -> bool:
    """The table's `pause` with a length it cannot read ("pause the music"): the handler says
    how to say it and changes nothing, so it is no action."""
    if reading.intent != "pause" or not reading.argument:
        return False
    try:
        parse_weeks(reading.argument)
    except ArgumentError:
        return True
    return False


def same_action(table: CommandTable, done: str, wanted: str) -> bool:
    """What the bot does is what was wanted: the same command, or one with the same handler."""
    if done == wanted:
        return True
    first, second = table.get(done), table.get(wanted)
    return bool(first and second and first.handler is second.handler)


def judge(
    item: dict[str, Any],
    reading: Reading,
    crisis: bool,
    table: CommandTable | None = None,
    today: date = LABELS_WRITTEN,
) -> str:
    """correct, ask, wrong, fallback (a message with an intent left to the fallback) or crisis."""
    gold = str(item["intent"])
    if crisis:
        return "crisis"
    if reading.outcome in (UNSURE, CONFIRM):
        return "ask"
    if reading.outcome == NOTHING:
        return "correct" if gold == NONE else "fallback"
    if refused(reading):
        return "ask"  # the command's own answer says how to say it, and nothing changes
    wanted = action(gold, str(item.get("argument") or ""))
    done = action(reading.intent, reading.argument)
    if gold == LEAVE_ALONE and not item.get("argument") and done in ("stop", "pause"):
        done = wanted  # left alone: stopping or pausing both leave them be
    same = same_action(table or default_commands(), done, wanted)
    if same and same_argument(gold, str(item.get("argument") or ""), reading.argument, today):
        return "correct"
    return "wrong"


def destructive(table: CommandTable, reading: Reading) -> bool:
    """A wrong action that changed something (asking "are you sure?" changes nothing)."""
    command = table.get(action(reading.intent, reading.argument))
    return bool(command and command.changes_state and not command.asks_first)


def evaluate(
    messages: list[dict[str, Any]],
    understanding: Understanding,
    support,
    today: date = LABELS_WRITTEN,
) -> dict:
    per_intent: dict[str, Counter[str]] = {}
    outcomes: Counter[str] = Counter()
    wrong: list[dict[str, Any]] = []
    destructive_count = exact_words = 0
    for item in messages:
        text = str(item["text"])
        reading = understanding.read(text)
        asks = asks_the_bot(reading, understanding.table, text)
        crisis = detect(text, support, asks_the_bot=asks) is not None
        verdict = judge(item, reading, crisis, understanding.table, today)
        outcomes[verdict] += 1
        per_intent.setdefault(str(item["intent"]), Counter())[verdict] += 1
        if verdict == "wrong":
            exact_words += reading.exact
            destructive_count += destructive(understanding.table, reading)
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
        "wrong_actions_exact_words": exact_words,
        "destructive_wrong_actions": destructive_count,
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
    parser.add_argument(
        "--set",
        action="append",
        help="dev, heldout (u1-u12), u1 ... u12, or a YAML path; repeat to score several (default: dev)",
    )
    parser.add_argument("--config", help="organisation YAML (default: the bundled example)")
    parser.add_argument("--explain", action="store_true", help="list misses (dev sets only)")
    parser.add_argument("--save", type=Path, help="also write the JSON line here")
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=LABELS_WRITTEN,
        help=f"the day a month named without a year is read from (default {LABELS_WRITTEN})",
    )
    args = parser.parse_args()
    names = args.set or ["dev"]
    sets: dict[str, list[dict[str, Any]]] = {}
    paths: list[Path] = []
    for name in names:
        for path in SETS.get(name) or [Path(name)]:
            paths.append(path)
            sets[path.stem] = yaml.safe_load(path.read_text())["messages"]
    messages = [item for items in sets.values() for item in items]
    support = load_org_config(args.config).support
    started = time.perf_counter()
    understanding = Understanding(default_commands())
    build_seconds = round(time.perf_counter() - started, 2)
    result = evaluate(messages, understanding, support, args.today)
    per_set = {}
    if len(sets) > 1:
        for stem, items in sets.items():
            one = evaluate(items, understanding, support, args.today)
            per_set[stem] = {k: v for k, v in one.items() if k not in ("per_intent", "_misses")}
    label = " + ".join(names)
    print(f"set: {label} ({result['messages']} messages from {len(paths)} file(s))")
    print("\nper intent                messages  correct  asked  wrong  fallback  crisis")
    for intent, row in result["per_intent"].items():
        print(
            f"  {intent:<24}{row['messages']:>8}{100 * row['correct']:>8.1f}%{row['asked']:>7}"
            f"{row['wrong']:>7}{row['fallback']:>10}{row['crisis']:>8}"
        )
    for stem, one in per_set.items():
        print(
            f"  {stem}: {one['messages']} messages, acted correctly {one['acted_correctly']:.1%},"
            f" did you mean {one['did_you_mean']:.1%}, wrong {one['wrong_actions_count']}"
            f" ({one['destructive_wrong_actions']} destructive)"
        )
    if args.explain and any(held_out(p) for p in paths):
        print("\n(--explain is not shown for a held-out set: it is not for tuning)")
    elif args.explain:
        print("\nmisses:")
        for miss in result["_misses"]:
            print(
                f"  {miss['text']!r}: labelled {miss['labelled']}, read {miss['read']}"
                f" {miss['argument']!r} ({miss['outcome']}, {miss['score']}) {miss['closest']}"
            )
    figures = {k: v for k, v in result.items() if not k.startswith("_")}
    if per_set:
        figures["per_set"] = per_set
    figures.update(set=label, build_seconds=build_seconds, machine=machine(), **_targets(result))
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
