"""Settings, the organisation YAML, its generated docs, migrations and the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import core.store.tables  # noqa: F401  (registers every table)
from bot.app import SERVICES
from bot.cli import main
from core import db
from core.config.configdocs import render_markdown
from core.config.orgconfig import ConfigError, load_org_config
from core.config.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_bundled_example_loads_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    org = load_org_config()
    assert org.organisation.name and org.teams


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "organisation: {name: X, timezone: Mars/Olympus}",
            "organisation.timezone: unknown time zone",
        ),
        (
            "organisation: {name: X}\nroles: {admin: []}",
            "roles.admin: Extra inputs are not permitted",
        ),
        (
            "organisation: {name: X}\nroles: {admins: [not-a-person]}",
            "roles.admins[0]: 'not-a-person' is neither an AAD object id",
        ),
        (
            "organisation: {name: X}\nteams: [{id: 123, name: A}]",
            "teams[0].id: Input should be a valid string",
        ),
        ("roles: {}", "organisation: Field required"),
        ("organisation: [unclosed", "not valid YAML at line 1"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_a_bad_config_names_the_file_the_key_and_the_problem(tmp_path, yaml_text, expected):
    path = tmp_path / "org.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as error:
        load_org_config(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_people_may_be_named_by_upn_and_ids_are_normalised(tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text(
        "organisation: {name: X}\nroles:\n  admins: [Ann.Lee@Example.NHS.uk, "
        "00000000-0000-0000-0000-0000000000AB]\n"
    )
    org = load_org_config(path)
    assert org.roles.admins == ["ann.lee@example.nhs.uk", "00000000-0000-0000-0000-0000000000ab"]


def test_the_config_reference_is_generated_from_the_model():
    committed = (ROOT / "docs" / "org-config.md").read_text()
    assert committed == render_markdown(), "run: wellbeing-bot config docs > docs/org-config.md"


def test_env_example_lists_every_setting():
    example = (ROOT / ".env.example").read_text()
    for field in Settings.model_fields.values():
        names = field.validation_alias.choices
        assert any(f"{name}=" in example for name in names), names[0]


async def test_migrations_match_the_models(database_url):
    engine = db.create_engine(database_url)
    await db.migrate(engine)
    await db.migrate(engine)  # idempotent

    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []
    assert await db.schema_is_current(engine)
    await engine.dispose()


def test_config_check_exits_non_zero_with_the_reason(tmp_path, capsys):
    path = tmp_path / "org.yaml"
    path.write_text("organisation: {name: X}\nteams: [{id: nope, name: A}]\n")
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "teams[0].id" in err and "not an AAD group id" in err
    assert main(["config", "check"]) == 0


def test_serve_refuses_a_public_address_in_local_mode(monkeypatch, capsys):
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "Refusing to listen on 0.0.0.0" in capsys.readouterr().err


def test_serve_refuses_to_start_for_teams_without_a_public_url(monkeypatch, capsys):
    monkeypatch.setenv("MicrosoftAppId", "00000000-0000-0000-0000-0000000000aa")
    monkeypatch.setenv("MicrosoftAppPassword", "not-a-real-secret")
    monkeypatch.delenv("WELLBEING_PUBLIC_URL", raising=False)
    assert main(["serve"]) == 2
    assert "WELLBEING_PUBLIC_URL is not set" in capsys.readouterr().err


def test_in_local_mode_links_follow_the_address_the_bot_serves_on(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MicrosoftAppId", raising=False)
    monkeypatch.delenv("WELLBEING_PUBLIC_URL", raising=False)
    monkeypatch.setenv("WELLBEING_SCHEDULER", "false")
    served = {}

    def run_app(app, **options):
        served["url"], served["port"] = app[SERVICES].public_url, options["port"]

    monkeypatch.setattr(web, "run_app", run_app)
    assert main(["serve", "--port", "3979"]) == 0
    assert served == {"url": "http://127.0.0.1:3979", "port": 3979}
    monkeypatch.setenv("WELLBEING_PUBLIC_URL", "https://bot.example.nhs.uk/")
    assert main(["serve", "--port", "3979"]) == 0
    assert served["url"] == "https://bot.example.nhs.uk"


def test_serve_stops_on_a_bad_org_config(tmp_path, monkeypatch, capsys):
    path = tmp_path / "org.yaml"
    path.write_text("organisation: {name: X, colour: blue}\n")
    monkeypatch.setenv("WELLBEING_ORG_CONFIG", str(path))
    assert main(["serve"]) == 2
    assert "organisation.colour" in capsys.readouterr().err


def test_the_console_command_is_installed_with_help():
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("serve", "migrate", "config", "console", "manifest", "doctor"):
        assert command in result.stdout
