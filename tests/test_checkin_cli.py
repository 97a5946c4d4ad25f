"""The admin's check-in commands, run as `wellbeing-bot …` against a database file."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from core import db, privacy
from core.directory import remember_person
from tests.support.clock import TEST_EPOCH


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
