"""The admin's check-in commands, run as `wellbeing-bot …` against a database file."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from bot.cli import main
from core import db
from core.privacy import secrets as privacy
from core.store.directory import remember_person
from tests.support.clock import TEST_EPOCH, Clock


@pytest.fixture
def admin_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'admin.db'}")
    for name, value in privacy.generate().items():
        monkeypatch.setenv(name, value)
    return tmp_path


def test_preview_shows_the_card_as_text_and_valid_json(admin_env, capsys):
    assert main(["checkins", "preview"]) == 0
    out = capsys.readouterr().out
    assert "Wellbeing Wednesday for" in out and "How are you feeling this week?" in out
    card = json.loads(out[out.index("{") :])
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert main(["checkins", "preview", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["type"] == "AdaptiveCard"


def test_preview_shows_the_next_cycle_not_sent_or_the_date_asked_for(admin_env, capsys):
    clock = Clock(TEST_EPOCH - timedelta(days=3))  # the Sunday before: Wednesday's card
    assert main(["checkins", "preview", "--text"], clock=clock) == 0
    assert "Wellbeing Wednesday for Wednesday 25 November 2026" in capsys.readouterr().out
    clock.now = TEST_EPOCH  # Wednesday morning: this week's cycle is due, not sent yet
    assert main(["checkins", "preview", "--text"], clock=clock) == 0
    assert "Wellbeing Wednesday for Wednesday 25 November 2026" in capsys.readouterr().out
    asyncio.run(
        _add_person(f"sqlite:///{admin_env / 'admin.db'}", "00000000-0000-0000-0000-000000000124")
    )
    assert main(["checkins", "send"], clock=clock) == 0
    capsys.readouterr()
    assert main(["checkins", "preview", "--text"], clock=clock) == 0
    assert "Wednesday 2 December 2026" in capsys.readouterr().out, "sent ones are skipped"
    assert main(["checkins", "preview", "--text", "--date", "2027-01-06"], clock=clock) == 0
    out = capsys.readouterr().out
    assert "Wednesday 6 January 2027 (week 1)" in out
    assert main(["checkins", "preview", "--date", "2027-01-05"], clock=clock) == 2
    assert "2027-01-05 is a Tuesday; check-ins go out on Wednesdays" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["checkins", "preview", "--date", "next week"], clock=clock)
    assert "not a date: use YYYY-MM-DD" in capsys.readouterr().err


def test_schedule_lists_the_next_cycles(admin_env, capsys):
    assert main(["schedule", "--count", "3"]) == 0
    out = capsys.readouterr().out
    assert "Wednesday at 10:00" in out and out.count("- Wed") == 3


async def _add_person(url: str, aad: str) -> None:
    engine = db.create_engine(url)
    await db.migrate(engine)
    async with db.session_factory(engine)() as session:
        await remember_person(
            session,
            aad,
            "tenant",
            teams_user_id="29:x",
            personal_conversation_id=f"a:{aad}",
            now=TEST_EPOCH,
        )
        await session.commit()
    await engine.dispose()


def test_send_hold_release_abort_and_status(admin_env, capsys):
    import asyncio

    asyncio.run(
        _add_person(f"sqlite:///{admin_env / 'admin.db'}", "00000000-0000-0000-0000-000000000123")
    )
    assert main(["checkins", "send"]) == 0
    assert "queued 1 check-in(s)" in capsys.readouterr().out
    assert main(["checkins", "send"]) == 0
    assert "queued 0 check-in(s); 1 already had" in capsys.readouterr().out
    assert main(["checkins", "hold"]) == 0
    assert "Held: 1" in capsys.readouterr().out
    assert main(["checkins", "status"]) == 0
    status = capsys.readouterr().out
    assert "held" in status and "people" in status
    assert main(["checkins", "hold"]) == 2
    assert "not open" in capsys.readouterr().err
    assert main(["checkins", "release"]) == 0
    assert "Released: 1" in capsys.readouterr().out
    assert main(["checkins", "abort"]) == 0
    assert "Aborted: 1" in capsys.readouterr().out
    assert main(["checkins", "status", "1999-01-01"]) == 2
    assert "no cycle for 1999-01-01" in capsys.readouterr().err
    assert main(["checkins", "status", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err
