"""`wellbeing-bot doctor`: each disagreement between settings, config, database, app package and
bot registration is reported as FAIL or WARN with its fix, and the exit code says whether to act."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from core import db
from core.config.orgconfig import load_org_config
from core.config.settings import Settings
from core.store import directory
from core.store.models import Conversation
from dialogs.router import default_commands
from manifest.package import build_package
from tests.support.clock import TEST_EPOCH

APP_ID = "3b2f8e4c-1a6d-4f0e-9c7b-5d8a2e6f1b90"
OTHER_APP_ID = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.fixture
def env(monkeypatch, tmp_path, database_url):
    """A clean environment (no .env, no inherited settings) pointing at a test database."""
    monkeypatch.chdir(tmp_path)
    for field in Settings.model_fields.values():
        for name in field.validation_alias.choices:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)

    def set_all(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_all


async def _migrate(database_url: str) -> None:
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    await engine.dispose()


def _production(env) -> None:
    env(
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="a-client-secret",
        MicrosoftAppTenantId=TENANT,
        MicrosoftAppType="SingleTenant",
        WELLBEING_PUBLIC_URL="https://bot.example.nhs.uk",
        WELLBEING_WEBSITE_URL="https://intranet.example.nhs.uk/wellbeing-bot",
        WELLBEING_PRIVACY_URL="https://intranet.example.nhs.uk/wellbeing-bot/privacy",
    )


def _doctor(capsys, *args: str) -> tuple[int, str]:
    status = main(["doctor", *args])
    return status, capsys.readouterr().out


def _line(output: str, start: str) -> str:
    """The check line starting with `start`, with its indented continuation and fix lines."""
    lines = output.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(start))
    block = [lines[index]]
    for line in lines[index + 1 :]:
        if not line.startswith("      "):
            break
        block.append(line)
    return "\n".join(block)


def test_a_package_built_for_another_bot_is_the_silent_bot_failure(
    env, capsys, tmp_path, database_url
):
    asyncio.run(_migrate(database_url))
    _production(env)
    settings = Settings()
    built_for_other = settings.model_copy(update={"microsoft_app_id": OTHER_APP_ID})
    package = build_package(built_for_other, load_org_config(), default_commands())
    path = tmp_path / "old-package.zip"
    path.write_bytes(package.to_zip())

    status, output = _doctor(capsys, "--package", str(path))
    assert status == 1
    found = _line(output, "FAIL  app package:")
    assert f"{path} has bot id {OTHER_APP_ID}, but MicrosoftAppId is {APP_ID}" in found
    assert "seems silent" in found
    assert "fix: Rebuild the package with `wellbeing-bot manifest`" in found
    assert "upload it again" in found
    assert "1 problem to fix" in output

    # The same settings' own package agrees, and so does a package built from them.
    good = tmp_path / "package.zip"
    good.write_bytes(build_package(settings, load_org_config(), default_commands()).to_zip())
    status, output = _doctor(capsys, "--package", str(good))
    assert status == 0, output
    assert f"OK    app package: {good}: bot id {APP_ID} is MicrosoftAppId" in output
    status, output = _doctor(capsys)
    assert status == 0, output
    assert "OK    messaging endpoint: https://bot.example.nhs.uk/api/messages" in output
    assert "OK    bot registration: app id" in output
    assert "OK    database:" in output and "reachable and migrated" in output


def test_a_bad_config_key_is_named_with_its_fix(env, capsys, tmp_path, database_url):
    asyncio.run(_migrate(database_url))
    config = tmp_path / "org.yaml"
    config.write_text("organisation: {name: Northshire}\nroles: {admin: [ann@example.nhs.uk]}\n")
    env(WELLBEING_ORG_CONFIG=str(config))

    status, output = _doctor(capsys)
    assert status == 1
    found = _line(output, "FAIL  organisation config:")
    assert str(config) in found
    assert "roles.admin: Extra inputs are not permitted" in found
    assert f"fix: Correct the key named above in {config}" in found
    assert "`wellbeing-bot config check`" in found
    # What can still be checked is; what needs the config says so.
    assert "app package: not checked" in output
    assert "OK    database:" in output


@pytest.mark.parametrize(
    ("settings", "expected", "fix"),
    [
        (
            {"MicrosoftAppPassword": ""},
            "MicrosoftAppPassword is empty",
            "Certificates & secrets",
        ),
        (
            {"MicrosoftAppTenantId": ""},
            "MicrosoftAppType is SingleTenant but MicrosoftAppTenantId is empty",
            "Microsoft Entra ID",
        ),
        (
            {"MicrosoftAppId": "my-bot"},
            "MicrosoftAppId 'my-bot' is not a GUID",
            "Configuration page",
        ),
        (
            {"WELLBEING_PUBLIC_URL": "http://bot.example.nhs.uk"},
            "http://bot.example.nhs.uk/api/messages is not https",
            "Serve the bot behind HTTPS",
        ),
    ],
)
def test_registration_problems_fail_with_their_fix(
    env, capsys, database_url, settings, expected, fix
):
    asyncio.run(_migrate(database_url))
    _production(env)
    env(**settings)
    status, output = _doctor(capsys)
    assert status == 1
    failures = [line for line in output.split("\n") if line.startswith("FAIL")]
    assert any(expected in line for line in failures), output
    assert fix in output


def test_the_tenant_must_match_the_config(env, capsys, tmp_path, database_url):
    asyncio.run(_migrate(database_url))
    _production(env)
    config = tmp_path / "org.yaml"
    config.write_text(
        "organisation: {name: Northshire, tenant_id: 11111111-2222-3333-4444-555555555555}\n"
    )
    env(WELLBEING_ORG_CONFIG=str(config))
    status, output = _doctor(capsys)
    assert status == 1
    found = _line(output, "FAIL  bot registration:")
    assert f"MicrosoftAppTenantId {TENANT} is not organisation.tenant_id 1111" in found
    assert "fix: Make them the same" in found


def test_people_teams_and_the_experts_channel_resolve_or_are_named(
    env, capsys, tmp_path, database_url
):
    asyncio.run(_migrate(database_url))
    seen_by_id = "0f0e0d0c-0b0a-4909-8807-060504030201"
    seen_by_upn = "ann.lee@example.nhs.uk"
    unseen = "bob.rowe@example.nhs.uk"
    team = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
    channel = "19:experts@thread.tacv2"
    config = tmp_path / "org.yaml"
    config.write_text(
        json.dumps(
            {
                "organisation": {"name": "Northshire"},
                "roles": {
                    "admins": [seen_by_id, seen_by_upn],
                    "hr_admins": [unseen],
                    "hr_experts_channel": channel,
                },
                "teams": [{"id": team, "name": "Ward 7", "managers": [seen_by_id]}],
            }
        )
    )
    env(WELLBEING_ORG_CONFIG=str(config))

    async def seed_some() -> None:
        engine = db.create_engine(database_url)
        async with db.session_factory(engine)() as session:
            await directory.remember_person(session, seen_by_id, TENANT, now=TEST_EPOCH)
            await directory.remember_person(
                session,
                "77777777-0000-4000-8000-000000000001",
                TENANT,
                upn=seen_by_upn,
                now=TEST_EPOCH,
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(seed_some())

    status, output = _doctor(capsys)
    assert status == 0, output  # nothing here is a FAIL: these clear as people install the app
    people = _line(output, "WARN  people:")
    assert f"1 of 4 people in the config are not seen yet: roles.hr_admins[0] {unseen}" in people
    assert seen_by_upn not in people and seen_by_id not in people
    assert "they need to install the app or be in a team the bot is in" in people
    assert "teams[0] Ward 7" in _line(output, "WARN  teams:")
    experts = _line(output, "WARN  HR experts channel:")
    assert f"{channel} is not a channel the bot has seen" in experts
    assert "@mention the bot there once" in experts

    async def seed_the_rest() -> None:
        engine = db.create_engine(database_url)
        async with db.session_factory(engine)() as session:
            await directory.remember_team(
                session,
                "19:ward7@thread.tacv2",
                TENANT,
                aad_group_id=team,
                name="Ward 7",
                now=TEST_EPOCH,
            )
            session.add(
                Conversation(
                    id=channel,
                    kind="channel",
                    tenant_id=TENANT,
                    service_url="https://smba.trafficmanager.net/uk/",
                    bot_id="28:bot",
                    reference="{}",
                    updated_at=TEST_EPOCH,
                )
            )
            await directory.remember_person(
                session, "77777777-0000-4000-8000-000000000002", TENANT, upn=unseen, now=TEST_EPOCH
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(seed_the_rest())
    status, output = _doctor(capsys)
    assert "OK    people: all 4 people in the config are known" in output
    assert "OK    teams: the app is in all 1 configured teams" in output
    assert f"OK    HR experts channel: {channel} is stored" in output


def test_the_database_must_exist_and_be_migrated(env, capsys, tmp_path):
    missing = tmp_path / "nowhere.db"
    env(DATABASE_URL=f"sqlite:///{missing}")
    status, output = _doctor(capsys)
    assert status == 0
    assert "WARN  database:" in output and "doesn't exist yet" in output
    assert not missing.exists(), "doctor must not create the database"

    empty = tmp_path / "empty.db"
    empty.touch()
    env(DATABASE_URL=f"sqlite:///{empty}")
    status, output = _doctor(capsys)
    assert status == 1
    assert "the schema is out of date" in _line(output, "FAIL  database:")
    assert "fix: Run `wellbeing-bot migrate`" in output


def test_bad_settings_are_a_failure_not_a_traceback(env, capsys):
    env(WELLBEING_TEAMS_APP_ID="not-a-guid")
    status, output = _doctor(capsys)
    assert status == 1
    assert "FAIL  settings:" in output and "WELLBEING_TEAMS_APP_ID: must be a GUID" in output
    assert ".env.example" in output


def test_local_mode_is_fine_with_warnings(env, capsys, database_url):
    asyncio.run(_migrate(database_url))
    status, output = _doctor(capsys)
    assert status == 0
    assert "WARN  bot registration: no MicrosoftAppId" in output
    assert "placeholder bot id" in _line(output, "WARN  app package:")
    assert "OK    messaging endpoint: local" in output
    assert Path("build").exists() is False, "doctor builds the package in memory only"
