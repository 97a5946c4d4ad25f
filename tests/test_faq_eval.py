"""FAQ retrieval against the labelled paraphrases in tests/fixtures/faq_eval.yaml: accuracy only
(speed is measured by bench/faq_eval.py, never asserted in tests)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from core.faq.config import FaqConfig
from core.faq.io import seed_entries
from core.faq.search import FaqIndex, normalise
from core.faq.store import build_index

EVAL = Path(__file__).resolve().parent / "fixtures" / "faq_eval.yaml"
HELDOUT_GOAL = 0.85
"""The issue's goal: top-1 on paraphrases the ranking was never tuned on."""


@cache
def _labelled() -> dict:
    return yaml.safe_load(EVAL.read_text(encoding="utf-8"))


@cache
def _index() -> FaqIndex:
    return build_index(seed_entries())


def _accuracy(part: str) -> tuple[float, float]:
    items = _labelled()[part]
    top1 = top3 = 0
    for item in items:
        ids = [hit.entry_id for hit in _index().rank(item["q"], k=3).hits]
        top1 += ids[:1] == [item["id"]]
        top3 += item["id"] in ids
    return top1 / len(items), top3 / len(items)


def test_the_labels_are_sound():
    """Every label names a shipped entry, and no paraphrase copies an entry's own wording."""
    entries = {e.id: e for e in seed_entries()}
    labelled = _labelled()
    assert len(labelled["tune"]) + len(labelled["heldout"]) >= 80
    own_words = {normalise(q) for e in entries.values() for q in (e.question, *e.phrasings)}
    seen: set[str] = set()
    for part in ("tune", "heldout"):
        for item in labelled[part]:
            assert item["id"] in entries, item
            said = normalise(item["q"])
            assert said not in own_words, f"copied from an entry: {item['q']!r}"
            assert said not in seen, f"asked twice: {item['q']!r}"
            seen.add(said)


@pytest.mark.xfail(
    strict=True,
    reason="Goal not met yet: held-out top-1 is 78.1% at 64 entries (python bench/faq_eval.py). "
    "Kept as a strict xfail so it fails loudly, as XPASS, once the goal is reached.",
)
def test_heldout_top1_meets_the_goal():
    top1, _ = _accuracy("heldout")
    assert top1 >= HELDOUT_GOAL


def test_heldout_accuracy_does_not_fall_back():
    """A floor at today's held-out figures (78.1% top-1, 90.6% top-3), so changes cannot quietly
    make it worse while the goal above is worked towards."""
    top1, top3 = _accuracy("heldout")
    assert top1 >= 0.78
    assert top3 >= 0.90


def test_the_tuning_half_stays_well_ranked():
    top1, top3 = _accuracy("tune")
    assert top1 >= 0.90 and top3 >= 0.95


def test_questions_outside_the_faq_get_the_not_sure_path():
    """At the configured threshold, at most one of the out-of-scope questions is answered."""
    answer_at = FaqConfig().answer_at
    answered = [q for q in _labelled()["out_of_scope"] if _index().rank(q).confidence >= answer_at]
    assert len(answered) <= 1, answered
