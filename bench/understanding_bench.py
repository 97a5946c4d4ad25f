"""The CPU the understanding step (dialogs/understanding.py) adds to a turn: p50 and p99
milliseconds a message, ending with one line of JSON.

    python bench/understanding_bench.py [--rounds 5] [--set PATH ...] [--save FILE]

Each message of the development set is read `--rounds` times, one at a time, in this thread,
timed with the thread's CPU clock (the encoder runs one onnxruntime thread, in the caller's).
`cold` clears the encoder's per-text cache and the step's kept readings first, so it is the
step's whole cost; `warm` is the cost in the bot, where the crisis check has just encoded the
same text (its vector is shared) and the classifier still runs. Building the step (reading the
intent model and checking it against the command table) is timed once, apart.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine, report  # noqa: E402
from core import sentence_encoder  # noqa: E402
from dialogs.router import default_commands  # noqa: E402
from dialogs.understanding import Understanding  # noqa: E402

DEV = ROOT / "bench" / "data" / "understanding_dev.yaml"


def _percentiles(samples: list[float]) -> dict[str, float]:
    values = np.array(samples)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p99_ms": round(float(np.percentile(values, 99)), 3),
        "max_ms": round(float(values.max()), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--save", type=Path)
    parser.add_argument(
        "--set",
        type=Path,
        action="append",
        help="a YAML set of {text} messages to time instead of the development set; repeat",
    )
    args = parser.parse_args()
    texts = [
        str(m["text"])
        for path in args.set or [DEV]
        for m in yaml.safe_load(path.read_text())["messages"]
    ]
    started = time.thread_time()
    understanding = Understanding(default_commands())
    build = time.thread_time() - started
    understanding.read("warm up")
    cold: list[float] = []
    warm: list[float] = []
    for _ in range(args.rounds):
        for text in texts:
            sentence_encoder.vector.cache_clear()
            understanding.forget()
            begin = time.thread_time_ns()
            understanding.read(text)
            cold.append((time.thread_time_ns() - begin) / 1e6)
            understanding.forget()
            begin = time.thread_time_ns()
            understanding.read(text)
            warm.append((time.thread_time_ns() - begin) / 1e6)
    figures = {
        "sets": [
            str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)
            for p in args.set or [DEV]
        ],
        "messages": len(cold),
        "build_cpu_seconds": round(build, 2),
        "cold": _percentiles(cold),
        "warm": _percentiles(warm),
        "cold_p99_ms": _percentiles(cold)["p99_ms"],
        "warm_p99_ms": _percentiles(warm)["p99_ms"],
        "target_p99_under_20_ms": _percentiles(cold)["p99_ms"] < 20,
        "machine": machine(),
    }
    report(figures, ("messages", "build_cpu_seconds", "cold", "warm"), args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
