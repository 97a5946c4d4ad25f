"""The understanding benchmark's judge (bench/understanding_eval.py): labels written in other
shapes by blind writers mean what they say, and the same action counts whatever it was read as."""

from __future__ import annotations

from datetime import date

import pytest

from bench.understanding_eval import judge
from dialogs.router import default_commands
from dialogs.understanding import NOTHING, SURE, UNSURE, Reading

TABLE = default_commands()


@pytest.mark.parametrize(
    ("label", "read", "verdict"),
    [
        ({"intent": "pause", "argument": "2"}, Reading("pause", "2 weeks", SURE), "correct"),
        ({"intent": "pause", "argument": "2"}, Reading("pause", "3 weeks", SURE), "wrong"),
        ({"intent": "pause", "argument": "3 weeks"}, Reading("pause", "3 weeks", SURE), "correct"),
        (
            {"intent": "report", "argument": "2025-01"},
            Reading("report", "january 2025", SURE),
            "correct",
        ),
        (
            {"intent": "report", "argument": "2025-01"},
            Reading("report", "january 2024", SURE),
            "wrong",
        ),
        ({"intent": "faq"}, Reading("policy_question", "", SURE), "correct"),
        ({"intent": "policy_question"}, Reading("faq", "what is sick pay", SURE), "correct"),
        ({"intent": "none"}, Reading("policy_question", "", SURE), "wrong"),
        ({"intent": "leave_alone"}, Reading("stop", "", SURE), "correct"),
        ({"intent": "stop"}, Reading("stop", "", UNSURE), "ask"),
        ({"intent": "stop"}, Reading("none", "", NOTHING), "fallback"),
    ],
)
def test_the_judge_reads_labels_as_their_writers_meant(label, read, verdict):
    assert judge({"text": "x", **label}, read, False, TABLE) == verdict


@pytest.mark.parametrize(
    ("today", "read", "verdict"),
    [
        (date(2026, 12, 7), "march", "correct"),
        (date(2026, 12, 7), "march 2026", "correct"),
        (date(2026, 12, 7), "march 2025", "wrong"),
        (date(2026, 2, 1), "march", "wrong"),  # in February, "march" is last year's
        (date(2026, 12, 7), "the march one", "wrong"),
    ],
)
def test_a_month_without_a_year_is_the_one_the_report_handler_would_build(today, read, verdict):
    item = {"text": "x", "intent": "report", "argument": "2026-03"}
    assert judge(item, Reading("report", read, SURE), False, TABLE, today) == verdict
