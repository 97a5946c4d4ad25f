"""FAQ files: the shipped seed, `wellbeing-bot faq import/export/seed`, exact round trips, and bad
files that name their lines and change nothing."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from core import db
from core.faq.io import (
    FaqFileError,
    dump_csv,
    dump_yaml,
    parse_csv,
    parse_yaml,
    seed_entries,
)
from core.faq.models import FaqEntry

REQUIRED_TOPICS = {
    "why-triggers-removed",
    "welcome-back-vs-rtw",
    "action-plan-what",
    "disability-leave-what",
    "dying-to-work",
    "informal-stage",
    "formal-stages",
    "capability-hearing",
    "reasonable-adjustments",
    "workplace-adjustments-plan",
    "medical-appointments",
    "sick-part-way-through-shift",
    "sick-during-annual-leave",
    "transition-cases",
    "train-the-trainer",
    "manager-training",
    "kpis-expect",
    "resources-where",
    "support-services",
}


def test_the_shipped_faq_is_valid_and_covers_the_policy():
    entries = seed_entries()
    assert len(entries) >= 40
    assert {e.id for e in entries} >= REQUIRED_TOPICS
    assert all(e.owner and e.last_reviewed and not e.retired for e in entries)
    # Where the toolkit is silent the answer says so instead of inventing a rule.
    silent = {"medical-appointments", "sick-part-way-through-shift", "sick-during-annual-leave"}
    assert all("check your local policy" in e.answer for e in entries if e.id in silent)


def test_files_round_trip_exactly():
    entries = seed_entries()
    assert parse_yaml(dump_yaml(entries)) == entries
    assert parse_csv(dump_csv(entries)) == entries


def _rows(database_url: str) -> list[tuple]:
    async def read() -> list[tuple]:
        engine = db.create_engine(database_url)
        try:
            async with db.session_factory(engine)() as session:
                rows = (await session.exec(select(FaqEntry).order_by(FaqEntry.id))).all()
                return [tuple(row.model_dump().items()) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def cli_db(database_url, monkeypatch, tmp_path):
    """DATABASE_URL for the command line, migrated and seeded."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    if not database_url.startswith("sqlite"):
        assert main(["migrate"]) == 0
    assert main(["faq", "seed"]) == 0
    return database_url


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_export_then_import_changes_nothing(cli_db, tmp_path, capsys, suffix):
    before = _rows(cli_db)
    assert len(before) >= 40
    path = tmp_path / f"faq{suffix}"
    assert main(["faq", "export", str(path)]) == 0
    assert main(["faq", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"0 added, 0 updated, {len(before)} unchanged" in out
    assert _rows(cli_db) == before  # not even a timestamp or revision moved


def test_an_edited_export_updates_only_what_changed(cli_db, tmp_path, capsys):
    path = tmp_path / "faq.csv"
    assert main(["faq", "export", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "Plan for it to take **over a year**", "Plan for it to take **a year or more**"
    )
    text += (
        "night-shift-welcome-back,Who holds a welcome back meeting for night staff?,"
        "Night shift returners | Nights welcome back,Agree a time that suits them.,"
        "welcome back | nights,HR policy team,2026-11-30,false\n"
    )
    path.write_text(text, encoding="utf-8")
    assert main(["faq", "import", str(path)]) == 0
    assert "1 added, 1 updated" in capsys.readouterr().out
    rows = {dict(r)["id"]: dict(r) for r in _rows(cli_db)}
    assert rows["implementation-timeline"]["revision"] == 2
    assert "a year or more" in rows["implementation-timeline"]["answer"]
    assert rows["night-shift-welcome-back"]["phrasings"] == [
        "Night shift returners",
        "Nights welcome back",
    ]


BAD_CSV = textwrap.dedent(
    """\
    id,question,phrasings,answer,tags,owner,last_reviewed,retired
    implementation-timeline,How long does it take?,,"This row is fine, and would change an entry.",,HR,2026-11-30,false
    Bad Id!,A question,,"An answer
    that spans
    three lines",,HR,2026-11-30,false
    no-answer,Where is the answer?,,,,HR,2026-11-30,false
    bad-date,When was this reviewed?,,Yesterday.,,HR,30/11/2026,maybe
    implementation-timeline,Asked twice?,,Again.,,HR,2026-11-30,false
    """
)


def test_a_bad_csv_names_each_line_and_imports_nothing(cli_db, tmp_path, capsys):
    before = _rows(cli_db)
    path = tmp_path / "bad.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    assert main(["faq", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert "line 3 (Bad Id!): id: 'Bad Id!' is not an id" in err
    assert "line 6 (no-answer): answer: is empty" in err  # counted past the 3-line answer above
    assert "line 7 (bad-date): last_reviewed: '30/11/2026' is not a date" in err
    assert "line 7 (bad-date): retired: 'maybe' is not true or false" in err
    assert "line 8: id: 'implementation-timeline' is used again (first on line 2)" in err
    assert _rows(cli_db) == before  # the good row on line 2 was not applied either


BAD_YAML = textwrap.dedent(
    """\
    entries:
      - id: fine-entry
        question: A fine question?
        answer: A fine answer.
        owner: HR
        last_reviewed: 2026-11-30
      - id: missing-owner
        question: Who owns this?
        answer: Nobody yet.
        last_reviewed: 2026-11-30
      - id: extra-column
        question: What is colour?
        answer: Not a column.
        owner: HR
        last_reviewed: 2026-11-30
        colour: blue
        phrasings: [one | two]
    """
)


def test_a_bad_yaml_names_each_line_and_imports_nothing(cli_db, tmp_path, capsys):
    before = _rows(cli_db)
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_YAML, encoding="utf-8")
    assert main(["faq", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 7 (missing-owner): owner: is missing" in err
    assert "line 16 (extra-column): colour: is not a column" in err
    assert "line 17 (extra-column): phrasings: phrasings items cannot contain '|'" in err
    assert _rows(cli_db) == before

    path.write_text("entries:\n  - id: [unclosed\n", encoding="utf-8")
    assert main(["faq", "import", str(path)]) == 2
    assert "line 3: not valid YAML" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("faq.txt", "", "unknown file type '.txt'"),
        ("faq.csv", "", "the file is empty"),
        ("faq.csv", "id,question\n", "missing column(s) ['answer', 'last_reviewed', 'owner']"),
        ("faq.yaml", "- just a list\n", "expected a mapping with an `entries:` list"),
    ],
)
def test_files_that_cannot_be_read_say_why(tmp_path, name, content, expected):
    path: Path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    from core.faq.io import read_file

    with pytest.raises(FaqFileError) as error:
        read_file(path)
    assert expected in str(error.value)


def test_seeding_is_idempotent(cli_db, capsys):
    before = _rows(cli_db)
    assert main(["faq", "seed"]) == 0
    assert "nothing was changed" in capsys.readouterr().out
    assert _rows(cli_db) == before
