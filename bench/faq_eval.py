"""How well and how fast the FAQ ranks: top-1 and top-3 on labelled questions, how often
out-of-scope questions are answered as if known, and the latency of ranking a question
(encoding it included), single-threaded, at the shipped size and at 5,000 entries.

    python bench/faq_eval.py [--set PATH ...] [--distractors GLOB] [--fill] [--faq FILE]
                             [--words-only] [--misses] [--calls N]

Two kinds of labelled set:
- by entry id (tests/fixtures/faq_eval.yaml `tune` + `tune_seen`, tests/fixtures/faq_heldout_2.yaml
  `heldout`): right when the ranked entry is the labelled one;
- by answer (`--set`, default bench/data/faq_dev.yaml; repeat it to score several sets on the same
  indexes): `questions: [{q, answer, section}]`, where
  `answer` is an exact quote from the toolkit, or null for a question the FAQ should not answer.
  An entry holds the answer when at least 60% of the quote's content words (normalised, stemmed,
  stopwords left out, each counted once) are in the entry's answer (core/faq/coverage.py,
  `holds`). top-1: the first entry holds it; top-3: one of the first three does; answered right:
  the bot would answer (confidence at or above `answer_at`) and the first entry holds it.

The 5,000-entry index adds near-miss distractor entries: those in the files `--distractors`
names (YAML, `entries: [{id, question, phrasings, answer}]`), topped up to 5,000 with generated
ones when `--fill` is given, or, without it, deterministic entries generated here from HR
templates (pay, leave, rostering...). Figures are also given per kind of toolkit part the
answer comes from (section, table, resource, contact: the outline item in
core/faq/data/toolkit_outline.yaml whose words are nearest the answer's). Encodings of entry texts
are kept in bench/.cache/ between runs (by digest, as the bot keeps them in its database). The
last line printed is one line of JSON.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

# Timed single-threaded, as the bot runs beside its event loop: one BLAS thread for numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import sentence_encoder  # noqa: E402
from core.faq.config import FaqConfig  # noqa: E402
from core.faq.coverage import HOLDS_AT, content_words, holds, toolkit_outline  # noqa: E402
from core.faq.io import EntryData, read_file, seed_entries  # noqa: E402
from core.faq.meaning import digest, encode_with_shipped  # noqa: E402
from core.faq.search import FaqIndex  # noqa: E402
from core.faq.store import build_index  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
TUNING_FILE = FIXTURES / "faq_eval.yaml"
HELDOUT_FILE = FIXTURES / "faq_heldout_2.yaml"
DEV_FILE = ROOT / "bench" / "data" / "faq_dev.yaml"
CACHE = ROOT / "bench" / ".cache" / "faq_vectors.npz"
LARGE = 5000

_SUBJECTS = [
    "mileage claims",
    "expenses",
    "the payslip",
    "overtime pay",
    "bank shifts",
    "agency shifts",
    "e-rostering",
    "the rota",
    "shift swaps",
    "night shift allowance",
    "on-call payments",
    "annual leave carry over",
    "buying annual leave",
    "selling annual leave",
    "bank holidays",
    "study leave",
    "maternity leave",
    "paternity leave",
    "adoption leave",
    "shared parental leave",
    "carers leave",
    "compassionate leave",
    "jury service",
    "career breaks",
    "flexible retirement",
    "the pension scheme",
    "salary sacrifice",
    "the cycle to work scheme",
    "car lease",
    "parking permits",
    "ID badges",
    "uniforms",
    "the DBS check",
    "mandatory training",
    "statutory training",
    "appraisal",
    "the PDR",
    "revalidation",
    "preceptorship",
    "apprenticeships",
    "secondments",
    "acting up",
    "job evaluation",
    "band 5 to band 6",
    "incremental pay",
    "the staff survey",
    "freedom to speak up",
    "whistleblowing",
    "grievances",
    "bullying and harassment",
    "the disciplinary policy",
    "probation",
    "references",
    "right to work checks",
    "relocation expenses",
    "home working equipment",
    "IT passwords",
    "the intranet",
    "email on my phone",
    "the library",
    "the staff canteen",
    "the gym discount",
    "long service awards",
    "retirement",
    "resignation",
    "notice periods",
    "exit interviews",
    "TOIL",
    "time off in lieu",
    "breaks on shift",
    "working time regulations",
    "second jobs",
    "conflicts of interest",
    "gifts and hospitality",
    "social media",
    "dress code",
    "lone working",
    "manual handling training",
    "fire safety training",
    "infection control",
    "vaccinations for staff",
    "the flu jab",
    "hepatitis B jabs",
    "needlestick injuries",
    "incident reporting",
    "Datix",
    "the union subscription",
    "staff networks",
    "the menopause policy",
    "fertility treatment leave",
    "religious observance",
]
_ASKS = [
    "How do I apply for {s}?",
    "Who approves {s}?",
    "What is the policy on {s}?",
    "Where can I find the form for {s}?",
    "How long does {s} take to process?",
    "Does {s} apply to bank staff?",
    "Can managers refuse {s}?",
    "Who do I contact about {s}?",
    "What changed about {s} this year?",
    "Is {s} different for part-time staff?",
    "How is {s} recorded in ESR?",
    "What happens with {s} if I move team?",
    "Do I need my manager's agreement for {s}?",
    "Is there a deadline for {s}?",
    "Can {s} be backdated?",
    "What evidence do I need for {s}?",
]
_WHO = [
    "staff",
    "managers",
    "nurses",
    "healthcare assistants",
    "doctors in training",
    "porters",
    "admin staff",
    "community teams",
    "theatre staff",
    "new starters",
    "students",
    "the night team",
    "therapists",
    "pharmacy",
    "estates staff",
    "social workers",
]
_ANSWERS = [
    "Ask your line manager first, then complete the {s} form on the intranet. Payroll "
    "processes it in the next pay run if it arrives before the cut-off.",
    "The {s} guidance is on the intranet. HR can advise on unusual cases; your manager "
    "approves routine requests and records them in ESR.",
    "For {s}, {w} should speak to their manager and check the local procedure. Training and "
    "absence records are updated by the workforce team.",
    "Requests for {s} are considered fairly and consistently. If a request is refused, the "
    "manager explains why in writing and you can ask for a review.",
]


def distractors(count: int, seed: int = 20261123) -> list[EntryData]:
    """Plausible HR questions that are not about the attendance policy, the same every run."""
    rng = random.Random(seed)
    made: list[EntryData] = []
    seen: set[str] = set()
    while len(made) < count:
        subject, who = rng.choice(_SUBJECTS), rng.choice(_WHO)
        question = rng.choice(_ASKS).format(s=subject)
        if rng.random() < 0.5:
            question = question.rstrip("?") + f" for {who}?"
        if question in seen:
            continue
        seen.add(question)
        phrasings = tuple(rng.choice(_ASKS).format(s=subject) for _ in range(rng.randint(0, 2)))
        made.append(
            EntryData(
                id=f"distractor-{len(made):05d}",
                question=question,
                phrasings=tuple(dict.fromkeys(p for p in phrasings if p != question)),
                answer=rng.choice(_ANSWERS).format(s=subject, w=who),
                tags=(subject,),
                owner="HR",
                last_reviewed="2026-11-23",
            )
        )
    return made


def load_distractors(pattern: str) -> list[EntryData]:
    """Near-miss entries from YAML files shaped `entries: [{id, question, phrasings, answer}]`.
    Ids are replaced so they never clash with shipped ones; text is tidied to what an import
    accepts (one-line question, no "|" in a phrasing, repeated phrasings once). An entry still
    refused is skipped and counted."""
    made: list[EntryData] = []
    skipped = 0
    paths = sorted(glob.glob(pattern))
    if not paths:
        raise SystemExit(f"--distractors {pattern!r} matches no file")
    for path in paths:
        for item in yaml.safe_load(Path(path).read_text(encoding="utf-8"))["entries"]:
            try:
                question = " ".join(str(item["question"]).split())[:500]
                phrasings = []
                for phrasing in item.get("phrasings") or ():
                    phrasing = " ".join(str(phrasing).replace("|", "/").split())
                    if phrasing and phrasing != question and phrasing not in phrasings:
                        phrasings.append(phrasing)
                made.append(
                    EntryData(
                        id=f"distractor-file-{len(made):05d}",
                        question=question,
                        phrasings=tuple(phrasings),
                        answer=str(item["answer"])[:6000],
                        owner="distractor",
                        last_reviewed="2026-12-06",
                    )
                )
            except (ValueError, KeyError, TypeError):
                skipped += 1
    print(f"distractors: {len(made)} from {len(paths)} files ({skipped} skipped as invalid)")
    return made


class VectorCache:
    """Encodings by digest, kept in one file between runs: encoding 5,000 entries takes minutes."""

    def __init__(self, path: Path):
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            with np.load(path) as stored:
                self.vectors = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
        self.added = 0

    def encode_and_keep(self, texts):
        vectors = encode_with_shipped(texts)
        for text, vector in zip(texts, vectors, strict=True):
            self.vectors[digest(text)] = vector
        self.added += len(texts)
        return vectors

    def save(self) -> None:
        if not self.added:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        np.savez(self.path, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def by_id(index: FaqIndex, items: list[dict]) -> tuple[float, float]:
    top1 = top3 = 0
    for item in items:
        ids = [hit.entry_id for hit in index.rank(item["q"], k=3).hits]
        top1 += ids[:1] == [item["id"]]
        top3 += item["id"] in ids
    return top1 / len(items), top3 / len(items)


def part_kind(answer: str) -> str:
    """The kind of toolkit part (section, table, resource, contact) an answer quote comes from:
    that of the outline item sharing the largest share of its content words."""
    wanted = content_words(answer)

    def share(item) -> float:
        words = content_words(item.quote)
        return len(wanted & words) / len(wanted | words) if wanted | words else 0.0

    return max(toolkit_outline().items, key=share).kind


def by_answer(
    index: FaqIndex,
    entries: dict[str, EntryData],
    items: list[dict],
    config: FaqConfig,
    shipped: set[str],
    misses: bool = False,
) -> dict[str, float]:
    """top-1, top-3 and answered-right on in-scope questions, overall and per kind of toolkit
    part; out-of-scope answered as known, and of those, how many with a shipped entry (a
    distractor on pay or leave may really answer a question about pay or leave)."""
    inside = [item for item in items if item.get("answer")]
    outside = [item for item in items if not item.get("answer")]
    top1 = top3 = right = 0
    kinds: dict[str, list[int]] = {}
    for item in inside:
        ranking = index.rank(item["q"], k=3)
        held = [holds(item["answer"], entries[hit.entry_id].answer) for hit in ranking.hits]
        top1 += held[:1] == [True]
        top3 += any(held)
        right += bool(held[:1] == [True] and ranking.confidence >= config.answer_at)
        tally = kinds.setdefault(part_kind(item["answer"]), [0, 0, 0])
        tally[0] += 1
        tally[1] += held[:1] == [True]
        tally[2] += any(held)
        if misses and held[:1] != [True]:
            holders = [e.id for e in entries.values() if holds(item["answer"], e.answer)]
            print(
                f"  miss{' (top-3)' if any(held) else ''}: {item['q']!r} -> "
                f"{[hit.entry_id for hit in ranking.hits]}; held by {holders[:4]}"
            )
    answered = by_shipped = 0
    for item in outside:
        ranking = index.rank(item["q"])
        if ranking.confidence >= config.answer_at:
            answered += 1
            by_shipped += ranking.top.entry_id in shipped
            if misses:
                print(
                    f"  out of scope answered: {item['q']!r} -> {ranking.top.entry_id} "
                    f"({ranking.confidence:.2f})"
                )
    return {
        "per_kind": {
            kind: {"questions": n, "top1": round(a / n, 4), "top3": round(b / n, 4)}
            for kind, (n, a, b) in sorted(kinds.items())
        },
        "questions": len(inside),
        "top1": top1 / max(1, len(inside)),
        "top3": top3 / max(1, len(inside)),
        "answered_right": right / max(1, len(inside)),
        "out_of_scope": len(outside),
        "out_of_scope_answered": answered,
        "out_of_scope_answered_by_shipped": by_shipped,
    }


def latency_ms(index: FaqIndex, questions: list[str], calls: int) -> dict[str, float]:
    """p50 and p99 of ranking one question, its encoding included (the encoder's cache is
    cleared before every call), as wall-clock time and as this thread's CPU time (which other
    processes on a busy machine cannot inflate)."""
    for question in questions[:50]:
        index.rank(question)
    wall, cpu = [], []
    for i in range(calls):
        question = questions[i % len(questions)]
        sentence_encoder.vector.cache_clear()
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        index.rank(question)
        cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
        wall.append((time.perf_counter_ns() - start) / 1e6)
    wall_cuts = statistics.quantiles(wall, n=100, method="inclusive")
    cpu_cuts = statistics.quantiles(cpu, n=100, method="inclusive")
    return {
        "p50_ms": wall_cuts[49],
        "p99_ms": wall_cuts[98],
        "cpu_p50_ms": cpu_cuts[49],
        "cpu_p99_ms": cpu_cuts[98],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="timed calls per size")
    parser.add_argument(
        "--set",
        action="append",
        help="a set labelled by answer quotes (repeat for several, scored one by one on the same "
        "indexes; default bench/data/faq_dev.yaml)",
    )
    parser.add_argument("--distractors", metavar="GLOB", help="YAML files of distractor entries")
    parser.add_argument(
        "--fill", action="store_true", help="top the distractor files up to 5,000 with generated"
    )
    parser.add_argument("--misses", action="store_true", help="print each question missed")
    parser.add_argument("--faq", metavar="FILE", help="entries to rank (default: the shipped FAQ)")
    parser.add_argument("--words-only", action="store_true", help="BM25F alone, no meaning")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write encodings")
    args = parser.parse_args(argv)

    tuning = yaml.safe_load(TUNING_FILE.read_text(encoding="utf-8"))
    blind = yaml.safe_load(HELDOUT_FILE.read_text(encoding="utf-8"))
    tune = tuning["tune"] + tuning["tune_seen"]
    heldout = blind["heldout"]
    set_paths = [Path(path) for path in args.set or [DEV_FILE]]
    answered_sets = {
        path: yaml.safe_load(path.read_text(encoding="utf-8"))["questions"] for path in set_paths
    }
    shipped = read_file(Path(args.faq)) if args.faq else seed_entries()
    shipped = [entry for entry in shipped if not entry.retired]
    known_ids = {entry.id for entry in shipped}
    tune = [item for item in tune if item["id"] in known_ids]
    heldout = [item for item in heldout if item["id"] in known_ids]
    large_extra = load_distractors(args.distractors) if args.distractors else []
    if not args.distractors or args.fill:
        generated = distractors(max(0, LARGE - len(shipped) - len(large_extra)))
        print(f"distractors: {len(generated)} generated from HR templates")
        large_extra += generated
    questions = [item["q"] for item in tune + heldout] + [
        item["q"] for items in answered_sets.values() for item in items
    ]
    config = FaqConfig()
    cache = VectorCache(CACHE) if not args.no_cache else None
    cpu = cpu_model()
    print(
        f"sets: {len(tune)} tuning and {len(heldout)} held-out by id; "
        f"{', '.join(str(path) for path in set_paths)} by answer "
        f"(holds at {HOLDS_AT:.0%} of content words); ranking: "
        f"{'words only' if args.words_only else 'words and meaning'}; thresholds: answer at "
        f"{config.answer_at}, sure at {config.sure_at}"
    )
    print(f"CPU: {cpu}, {os.cpu_count()} cores; timed single-threaded")

    results = []
    for entries in (shipped, shipped + large_extra):
        start = time.perf_counter()
        index = build_index(
            entries,
            cache.vectors if cache else None,
            encode=cache.encode_and_keep if cache else encode_with_shipped,
            meaning=not args.words_only,
        )
        built = time.perf_counter() - start
        if cache:
            cache.save()
        lookup = {entry.id: entry for entry in entries}
        top1, top3 = by_id(index, heldout)
        tune1, tune3 = by_id(index, tune)
        print(f"\n{len(index)} entries (index built in {built:.1f} s)")
        for path, items in answered_sets.items():
            scored = by_answer(index, lookup, items, config, known_ids, args.misses)
            print(
                f"  {path.name}: top-1 {scored['top1']:.1%}  top-3 {scored['top3']:.1%}  "
                f"answered right {scored['answered_right']:.1%} (of {scored['questions']}); "
                f"out of scope answered {scored['out_of_scope_answered']} of "
                f"{scored['out_of_scope']} ({scored['out_of_scope_answered_by_shipped']} by a "
                "shipped entry)"
            )
            for kind, figures in scored["per_kind"].items():
                print(
                    f"    {kind}: top-1 {figures['top1']:.1%}  top-3 {figures['top3']:.1%} "
                    f"(of {figures['questions']})"
                )
            results.append(
                {
                    "entries": len(index),
                    "set": path.name,
                    **{
                        name: value if name == "per_kind" else round(value, 4)
                        for name, value in scored.items()
                    },
                }
            )
        print(f"  faq_heldout_2 (by id): top-1 {top1:.1%}  top-3 {top3:.1%}")
        print(f"  faq_eval tuning (by id): top-1 {tune1:.1%}  top-3 {tune3:.1%}")
        timing = latency_ms(index, questions, args.calls) if args.calls else {}
        if timing:
            print(
                f"  ranking latency over {args.calls} calls, encoding included: "
                f"p50 {timing['p50_ms']:.2f} ms, p99 {timing['p99_ms']:.2f} ms (CPU time: p50 "
                f"{timing['cpu_p50_ms']:.2f} ms, p99 {timing['cpu_p99_ms']:.2f} ms; load average "
                f"{os.getloadavg()[0]:.1f})"
            )
        results.append(
            {
                "entries": len(index),
                "heldout2_top1": round(top1, 4),
                "heldout2_top3": round(top3, 4),
                "tune_top1": round(tune1, 4),
                "tune_top3": round(tune3, 4),
                **{name: round(value, 3) for name, value in timing.items()},
                "meaning": not args.words_only,
                "cpu": cpu,
            }
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
