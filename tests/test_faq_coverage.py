"""Every section, table, named resource and contact of the North West toolkit is held by a live
FAQ entry (core/faq/coverage.py), checked through the command line on the shipped file."""

from __future__ import annotations

import pytest

from bot.cli import main
from core.faq import io as faq_io
from core.faq.coverage import content_words, coverage, holds, share_held, toolkit_outline


def test_holding_a_quote_means_most_of_its_content_words():
    assert content_words("Up to 75 participants per session") == {
        "75",
        "particip",
        "per",
        "session",
    }
    assert holds("Up to 75 participants per session", "up to 75 people per session")
    assert not holds("Up to 75 participants per session", "sessions are small")
    assert share_held("Duration: 3.5 hours", "It lasts 3.5 hours") == pytest.approx(3 / 4)


def test_the_outline_names_every_kind_of_thing_a_trainer_asks_about():
    kinds = {item.kind for item in toolkit_outline().items}
    assert kinds == {"section", "table", "resource", "contact"}
    titles = {item.title for item in toolkit_outline().items}
    assert {"Sharon Lord", "Ruth Barker", "James Bull", "Staff Side"} <= titles


def test_the_shipped_faq_holds_every_toolkit_item(capsys):
    assert main(["faq", "coverage"]) == 0
    out = capsys.readouterr().out
    total = len(toolkit_outline().items)
    assert f"{total} of {total} toolkit items are held" in out


def test_a_section_that_loses_its_entry_is_listed(tmp_path, capsys):
    contacts = {"key-contacts", "contact-nca", "contact-tameside", "contact-unison", "project-team"}
    entries = [entry for entry in faq_io.seed_entries() if entry.id not in contacts]
    path = tmp_path / "faq.yaml"
    faq_io.write_file(path, entries)
    assert main(["faq", "coverage", str(path)]) == 1
    out = capsys.readouterr().out
    for name in ("Sharon Lord", "Ruth Barker", "James Bull"):
        assert f"[contact] Key Contacts / {name}: NO ENTRY" in out
    assert "have none" in out


def test_a_retired_entry_covers_nothing():
    entries = [
        entry.model_copy(update={"retired": True}) if entry.id == "train-the-trainer" else entry
        for entry in faq_io.seed_entries()
    ]
    missing = {item.title for item in coverage(entries).missing}
    assert "Train-the-Trainer Program" in missing
