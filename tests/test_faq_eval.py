"""FAQ retrieval against labelled paraphrases: tests/fixtures/faq_eval.yaml (tuning data) and
tests/fixtures/faq_heldout_2.yaml (written blind, never tuned on). Accuracy only: speed is
measured by bench/faq_eval.py, never asserted in tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

from core.faq.config import FaqConfig
from core.faq.io import seed_entries
from core.faq.search import FaqIndex, normalise
from core.faq.store import build_index

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HELDOUT_GOAL = 0.85
"""The issue's goal: top-1 on paraphrases the ranking was never tuned on."""


@cache
def _labelled() -> dict:
    """Every labelled part by name: `tune` and `tune_seen` (tuning), `heldout` (blind)."""
    tuning = yaml.safe_load((FIXTURES / "faq_eval.yaml").read_text(encoding="utf-8"))
    blind = yaml.safe_load((FIXTURES / "faq_heldout_2.yaml").read_text(encoding="utf-8"))
    return {
        "tune": tuning["tune"],
        "tune_seen": tuning["tune_seen"],
        "heldout": blind["heldout"],
        "out_of_scope": tuning["out_of_scope"] + blind["out_of_scope"],
    }


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
    """Every label names a shipped entry, no set asks a question twice, and no tuning question
    was copied into an entry. A blind question may match other wording by chance (four match
    phrasings written before the blind set, one a tuning question); they stay as written."""
    entries = {e.id: e for e in seed_entries()}
    labelled = _labelled()
    # three blind questions an entry, for the 64 entries shipped when the set was written
    assert len(labelled["heldout"]) >= 3 * 64
    own_words = {normalise(q) for e in entries.values() for q in (e.question, *e.phrasings)}
    for parts in (("tune", "tune_seen"), ("heldout",)):
        seen: set[str] = set()
        for item in (item for part in parts for item in labelled[part]):
            assert item["id"] in entries, item
            said = normalise(item["q"])
            if parts != ("heldout",):
                assert said not in own_words, f"copied from an entry: {item['q']!r}"
            assert said not in seen, f"asked twice: {item['q']!r}"
            seen.add(said)


def test_heldout_top1_meets_the_goal():
    top1, top3 = _accuracy("heldout")
    assert top1 >= HELDOUT_GOAL
    assert top3 >= 0.95


@pytest.mark.parametrize("part", ["tune", "tune_seen"])
def test_the_tuning_data_stays_well_ranked(part):
    top1, top3 = _accuracy(part)
    assert top1 >= 0.85 and top3 >= 0.95


def test_questions_outside_the_faq_get_the_not_sure_path():
    """At the configured threshold, at most two of the out-of-scope questions are answered."""
    answer_at = FaqConfig().answer_at
    answered = [q for q in _labelled()["out_of_scope"] if _index().rank(q).confidence >= answer_at]
    assert len(answered) <= 2, answered
