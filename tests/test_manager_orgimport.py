"""`wellbeing-bot org import FILE`: teams, directorates and managers from an HR export, checked
line by line (nothing imported when any line is bad), merged with the org config's teams."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.cli import main
from core.config import orgimport
from core.config.orgconfig import TeamConfig
from tests.conftest import TEST_SECRETS
from tests.support.activities import TeamsUser

WARD = "11111111-1111-1111-1111-111111111111"
THERAPY = "22222222-2222-2222-2222-222222222222"
CONFIGURED = "33333333-3333-3333-3333-333333333333"

GOOD_CSV = f"""team_id,team_name,directorate,manager,enrolled
{WARD},Ward 7 Nursing,Acute Medicine,aaaaaaaa-0000-0000-0000-000000000001,yes
{WARD},Ward 7 Nursing,Acute Medicine,deputy.manager@example.org,yes
{THERAPY},Community Therapies,Community Services,,no
{CONFIGURED},From HR,HR's directorate,bbbbbbbb-0000-0000-0000-000000000002,yes
"""

BAD_CSV = f"""team_id,team_name,directorate,manager,enrolled,colour
{WARD},Ward 7 Nursing,Acute Medicine,aaaaaaaa-0000-0000-0000-000000000001,yes,
not-a-guid,Somewhere,,,yes,
{WARD},Ward Seven,Acute Medicine,someone@example.org,yes,
{THERAPY},,Community Services,not a person,maybe,
"""


@pytest.fixture
def cli_env(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name, value in TEST_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WELLBEING_ORG_CONFIG", raising=False)
    return database_url


async def _imported(bot) -> list[orgimport.OrgTeamView]:
    async with bot.services.sessions() as session:
        return [
            t for t in await orgimport.org_teams(session, bot.services.org) if t.source == "import"
        ]


def test_a_bad_file_names_every_problem_by_line_and_imports_nothing():
    with pytest.raises(orgimport.OrgImportError) as raised:
        orgimport.parse(BAD_CSV, source="hr.csv")
    problems = raised.value.problems
    assert "line 1: unknown column 'colour'" in problems[0]
    assert any(
        p.startswith("line 3: team_id 'not-a-guid' is not an AAD group id") for p in problems
    )
    assert any(
        p.startswith("line 4: team_name 'Ward Seven' differs from 'Ward 7 Nursing'")
        and "line 2" in p
        for p in problems
    )
    assert any(p.startswith("line 5: team_name is empty") for p in problems)
    assert any(p.startswith("line 5: manager 'not a person'") for p in problems)
    assert any(p.startswith("line 5: enrolled 'maybe'") for p in problems)
    assert str(raised.value).startswith("hr.csv: ") and "nothing was imported" in str(raised.value)


async def test_the_cli_imports_a_good_file_and_refuses_a_bad_one_whole(
    make_bot, org, cli_env, tmp_path, capsys
):
    config = org.model_copy(
        update={
            "teams": [
                TeamConfig(id=CONFIGURED, name="From the config", managers=[], enrolled=False)
            ]
        }
    )
    bot = await make_bot(org_config=config)  # migrates the database
    good = tmp_path / "hr.csv"
    good.write_text(GOOD_CSV)
    assert await asyncio.to_thread(main, ["org", "import", str(good)]) == 0
    out = capsys.readouterr().out
    assert "Imported 3 team(s) and 3 manager(s)" in out
    async with bot.services.sessions() as session:
        teams = await orgimport.org_teams(session, config)
    by_id = {t.id: t for t in teams}
    assert by_id[CONFIGURED].name == "From the config"  # the config wins for its own teams
    assert by_id[CONFIGURED].source == "config"
    assert by_id[WARD].managers == (
        "aaaaaaaa-0000-0000-0000-000000000001",
        "deputy.manager@example.org",
    )
    assert by_id[WARD].enrolled and not by_id[THERAPY].enrolled
    assert by_id[THERAPY].directorate == "Community Services"

    bad = tmp_path / "hr-bad.csv"
    bad.write_text(BAD_CSV)
    assert await asyncio.to_thread(main, ["org", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "nothing was imported" in err
    assert {t.id for t in await _imported(bot)} == {WARD, THERAPY}  # the last good import stands


def test_yaml_rows_with_several_managers_and_line_numbers():
    text = f"""
- team_id: {WARD}
  team_name: Ward 7 Nursing
  directorate: Acute Medicine
  manager: [aaaaaaaa-0000-0000-0000-000000000001, b@example.org]
  enrolled: true
- team_id: nope
  team_name: Broken
"""
    with pytest.raises(orgimport.OrgImportError) as raised:
        orgimport.parse(text, kind="yaml")
    assert raised.value.problems == ["line 7: team_id 'nope' is not an AAD group id (a GUID)"]
    [team] = orgimport.parse(text.split("- team_id: nope")[0], kind="yaml")
    assert team.managers == ["aaaaaaaa-0000-0000-0000-000000000001", "b@example.org"]
    assert team.enrolled


async def test_an_imported_manager_can_see_their_team(make_bot, org):
    bot = await make_bot()
    manager = TeamsUser(aad_object_id="aaaaaaaa-0000-0000-0000-000000000001")
    await bot.install(manager)
    async with bot.services.sessions() as session:
        await orgimport.replace_imported(session, orgimport.parse(GOOD_CSV), bot.services.clock())
        await session.commit()
        assert len((await session.exec(select(orgimport.OrgTeamManager))).all()) == 3
    replies = await bot.say(manager, "team")
    assert "No summary for Ward 7 Nursing yet" in replies[0]["text"]
