"""The demo: a database of its own seeded through the real code, refused with production
settings; and the console playing every role, showing what others receive."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from aiohttp import web
from sqlmodel import select

from bot import demo
from bot.app import SERVICES
from bot.cli import main
from bot.console import Console, ConsoleUser
from core.config.settings import Settings
from core.reporting.frozen import FrozenGroup
from core.store.cycles import CLOSED, Cycle
from core.store.models import Person
from core.store.outbox import FINAL_STATES, OutboxMessage
from core.store.wellbeing import CheckinAnswer
from tests.support.activities import TENANT
from tests.support.clock import TEST_EPOCH
from tests.test_console import Script


@pytest.fixture
def demo_bot(make_bot, org):
    """The app on a freshly seeded demo database, as `wellbeing-bot demo` builds it."""

    async def start():
        clock = demo.SeedClock(TEST_EPOCH)
        bot = await make_bot(clock=clock, WELLBEING_CARD_BANNER=demo.BANNER)
        seeded = await demo.seed(bot.services, clock, random.Random(7))
        return bot, seeded

    return start


async def test_the_seed_makes_closed_weeks_through_the_real_code(demo_bot, org):
    bot, seeded = await demo_bot()
    assert seeded.weeks == demo.WEEKS and seeded.people == sum(demo.MEMBERS_PER_TEAM)
    async with bot.services.sessions() as session:
        cycles = (await session.exec(select(Cycle).order_by(Cycle.scheduled_for))).all()
        answers = (await session.exec(select(CheckinAnswer))).all()
        groups = (await session.exec(select(FrozenGroup))).all()
        pending = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.status.not_in(FINAL_STATES))
            )
        ).all()
    assert [c.status for c in cycles] == [CLOSED] * demo.WEEKS
    assert cycles[-1].closes_at <= TEST_EPOCH, "every seeded week is over before now"
    assert len(answers) == seeded.answers > seeded.people * demo.WEEKS * 0.4
    assert {g.cycle_id for g in groups} == {c.id for c in cycles}, "each week frozen"
    assert pending == [], "nothing seeded goes out again"


async def test_the_console_plays_each_role_and_shows_what_others_receive(demo_bot, org):
    bot, _seeded = await demo_bot()
    cast = {
        role: ConsoleUser(aad, name, TENANT, "Europe/London")
        for role, (aad, name) in demo.cast(org).items()
    }
    out = io.StringIO()
    lines = ["my check-ins", "/as manager", "team", "/as lead", "report", "/as", "/as nobody"]
    console = Console(
        bot.url,
        user=cast["staff"],
        read_line=Script([*lines, "/quit"], out),
        out=out,
        cast=cast,
        reachable=("coordinator", "backup"),
        reply_wait=2.0,
    )
    assert await console.run() == 0
    transcript = out.getvalue()
    assert demo.BANNER in transcript, "every card says it is demo data"
    assert "Your check-ins over the last eight weeks" in transcript
    assert "(You are now Dana, manager of Ward 7 Nursing" in transcript
    assert "Your team: Ward 7 Nursing" in transcript
    assert "Wellbeing report:" in transcript
    assert "You can be: staff (Sam, on Ward 7 Nursing), manager" in transcript
    assert "No role called 'nobody'" in transcript
    assert "Bot, to Cora" not in transcript, "the coordinators' welcomes are not shown"
    async with bot.services.sessions() as session:
        coordinator = await session.get(Person, cast["coordinator"].aad_object_id)
    assert coordinator is not None and coordinator.personal_installed, "reachable from the start"


def test_the_demo_refuses_production_settings_and_keeps_its_own_database(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MicrosoftAppId", "00000000-0000-0000-0000-0000000000aa")
    monkeypatch.setenv("WELLBEING_PUBLIC_URL", "https://bot.example.nhs.uk")
    assert main(["demo"]) == 2
    assert "only in local mode" in capsys.readouterr().err
    monkeypatch.delenv("MicrosoftAppId")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    assert main(["demo"]) == 2
    assert "never uses PostgreSQL" in capsys.readouterr().err
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("WELLBEING_SCHEDULER", "false")
    normal = tmp_path / "wellbeing.db"
    normal.write_bytes(b"the normal database, untouched")
    served = {}

    def run_app(app, **options):
        served["database"] = app[SERVICES].sessions.kw["bind"].url.database
        served["banner"] = app[SERVICES].card_banner

    monkeypatch.setattr(web, "run_app", run_app)
    assert main(["demo", "--port", "3991"], clock=lambda: TEST_EPOCH) == 0
    assert Path(served["database"]).name == demo.DEMO_DATABASE
    assert served["banner"] == demo.BANNER
    assert normal.read_bytes() == b"the normal database, untouched"
    assert "6 closed weeks" in capsys.readouterr().out


def test_the_demo_settings_start_from_an_empty_file(tmp_path):
    (tmp_path / demo.DEMO_DATABASE).write_text("yesterday's demo")
    settings = demo.demo_settings(Settings(_env_file=None), tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / demo.DEMO_DATABASE}"
    assert not (tmp_path / demo.DEMO_DATABASE).exists()


async def test_the_console_talks_in_a_channel_and_a_group_chat_by_mentioning_the_bot(bot, org):
    cast = {
        role: ConsoleUser(aad, name, TENANT, "Europe/London")
        for role, (aad, name) in demo.cast(org).items()
    }
    out = io.StringIO()
    lines = [
        "/in channel",
        "what is a welcome back conversation?",
        "/in group",
        "help",
        "/in nowhere",
        "/in personal",
        "privacy",
    ]
    console = Console(
        bot.url,
        user=cast["admin"],
        read_line=Script([*lines, "/quit"], out),
        out=out,
        cast=cast,
        team_group_id=org.teams[0].id,
    )
    assert await console.run() == 0
    transcript = out.getvalue()
    assert "(You are now in the General channel of the console's team" in transcript
    assert "welcome back" in transcript.split("/in group")[0].lower()
    assert "Say /in personal, /in channel, /in group." in transcript
    kinds = [a["conversation"]["conversationType"] for a in console.sent]
    assert kinds.count("channel") == 2 and kinds.count("groupChat") == 2, kinds
    asked = next(a for a in console.sent if a.get("text", "").endswith("conversation?"))
    assert asked["text"].startswith("<at>Wellbeing</at> ")
    assert asked["entities"][0]["type"] == "mention"
    assert asked["channelData"]["team"]["aadGroupId"] == org.teams[0].id
    assert console.sent[-1]["conversation"]["conversationType"] == "personal"
