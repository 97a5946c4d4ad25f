"""The Teams app package: valid against the official manifest schema, with the right ids, icons
Teams accepts, and command menus built from the bot's own command table."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from PIL import Image

from bot.cli import main
from core.config.orgconfig import load_org_config
from core.config.settings import Settings
from dialogs.commands import Command, CommandTable
from dialogs.router import default_commands
from manifest.package import (
    LOCAL_PLACEHOLDER_BOT_ID,
    MAX_COMMANDS,
    build_package,
    read_package,
    teams_app_id,
)
from tests.support import node

APP_ID = "3b2f8e4c-1a6d-4f0e-9c7b-5d8a2e6f1b90"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)


def _production() -> Settings:
    return _settings(
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="secret",
        MicrosoftAppTenantId=TENANT,
        MicrosoftAppType="SingleTenant",
        WELLBEING_PUBLIC_URL="https://bot.example.nhs.uk",
        WELLBEING_WEBSITE_URL="https://intranet.example.nhs.uk/wellbeing-bot",
        WELLBEING_PRIVACY_URL="https://intranet.example.nhs.uk/wellbeing-bot/privacy",
    )


def _zip(settings: Settings, commands: CommandTable | None = None) -> zipfile.ZipFile:
    package = build_package(settings, load_org_config(), commands or default_commands())
    return zipfile.ZipFile(io.BytesIO(package.to_zip()))


@pytest.mark.parametrize("mode", ["production", "local"])
def test_the_package_validates_against_the_official_schema(mode):
    settings = _production() if mode == "production" else _settings()
    archive = _zip(settings)
    assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(archive.read("manifest.json"))
    report = node.validate("manifest", manifest)
    assert report["errors"] == []
    assert report["schema"].endswith("v1.19/MicrosoftTeams.schema.json")


def test_the_validator_refuses_a_broken_manifest():
    manifest = json.loads(_zip(_production()).read("manifest.json"))
    manifest["bots"][0]["commandLists"][0]["commands"] *= 4
    manifest["name"]["short"] = "A name much longer than Teams allows for apps"
    errors = "\n".join(node.validate("manifest", manifest)["errors"])
    assert "/bots/0/commandLists/0/commands must NOT have more than 10 items" in errors
    assert "/name/short must NOT have more than 30 characters" in errors


def test_the_ids_come_from_the_settings():
    manifest = json.loads(_zip(_production()).read("manifest.json"))
    bot = manifest["bots"][0]
    assert bot["botId"] == APP_ID
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    assert "supportsFiles" not in bot
    assert manifest["id"] != APP_ID and uuid.UUID(manifest["id"])
    assert manifest["validDomains"] == ["bot.example.nhs.uk"]
    assert manifest["developer"]["privacyUrl"].endswith("/privacy")
    org_name = load_org_config().organisation.name
    assert org_name in manifest["name"]["full"] and org_name in manifest["description"]["full"]

    chosen = "6f1c2b9e-3d4a-4c8b-9e1f-2a3b4c5d6e7f"
    settings = _settings(
        MicrosoftAppId=APP_ID, WELLBEING_TEAMS_APP_ID=chosen, WELLBEING_SUPPORTS_FILES="true"
    )
    manifest = json.loads(_zip(settings).read("manifest.json"))
    assert manifest["id"] == chosen and manifest["bots"][0]["supportsFiles"] is True


def test_the_same_settings_build_the_same_bytes():
    first, second = (
        build_package(_production(), load_org_config(), default_commands()).to_zip()
        for _ in range(2)
    )
    assert first == second


def test_the_default_teams_app_id_is_stable():
    org = load_org_config()
    first = teams_app_id(_production(), org)
    assert first == teams_app_id(_production(), org)
    assert first != teams_app_id(_settings(MicrosoftAppId=str(uuid.uuid4())), org)
    assert teams_app_id(_settings(), org) == teams_app_id(_settings(), org)


def test_local_mode_packages_with_a_placeholder_and_says_so():
    package = build_package(_settings(), load_org_config(), default_commands())
    assert package.manifest["bots"][0]["botId"] == LOCAL_PLACEHOLDER_BOT_ID
    assert any("placeholder bot id" in warning for warning in package.warnings)
    assert not any(
        "placeholder" in w
        for w in build_package(_production(), load_org_config(), default_commands()).warnings
    )


def test_the_icons_are_the_sizes_teams_needs():
    archive = _zip(_production())
    color = Image.open(io.BytesIO(archive.read("color.png")))
    assert color.format == "PNG" and color.size == (192, 192)

    outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert outline.format == "PNG" and outline.size == (32, 32) and outline.mode == "RGBA"
    raw = outline.tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    alphas = [pixel[3] for pixel in pixels]
    assert alphas[0] == alphas[31] == alphas[-32] == alphas[-1] == 0, "corners must be transparent"
    assert sum(a == 0 for a in alphas) > len(alphas) / 3, "the background must be transparent"
    assert max(alphas) == 255, "the drawing must be visible"
    assert all(pixel[:3] == (255, 255, 255) for pixel in pixels if pixel[3]), "white only"


def _noop_command(name: str, scopes: tuple[str, ...] = ("personal",), usage: str = "") -> Command:
    async def handler(_turn, _argument):
        return []

    return Command(name, f"do {name} for **you**", handler, scopes=frozenset(scopes), usage=usage)


def test_command_menus_come_from_the_live_table_most_needed_first():
    names = ["zebra", "delete my data", "pause", "team", "stop", "resume", "start"]
    names += ["privacy", "check in", "support", "export my data", "prompts"]
    table = CommandTable(
        [
            *(_noop_command(name) for name in names),
            _noop_command("my check ins", usage="my check-ins"),
            _noop_command("help", ("personal", "channel")),
            _noop_command("faq", ("personal", "channel")),
        ]
    )
    manifest = json.loads(_zip(_production(), table).read("manifest.json"))
    personal, shared = manifest["bots"][0]["commandLists"]
    assert personal["scopes"] == ["personal"] and sorted(shared["scopes"]) == ["groupChat", "team"]
    assert [c["title"] for c in personal["commands"]] == [
        "help",
        "check in",
        "support",
        "privacy",
        "pause",
        "resume",
        "stop",
        "start",
        "my check-ins",
        "export my data",
    ]
    assert len(personal["commands"]) == MAX_COMMANDS
    assert [c["title"] for c in shared["commands"]] == ["faq", "help"]
    assert personal["commands"][0]["description"] == "Do help for you"


def test_every_listed_command_is_one_the_bot_understands():
    table = default_commands()
    manifest = json.loads(_zip(_production(), table).read("manifest.json"))
    for command_list in manifest["bots"][0]["commandLists"]:
        assert 0 < len(command_list["commands"]) <= MAX_COMMANDS
        for entry in command_list["commands"]:
            match = table.match(entry["title"])
            assert match is not None and not match.argument, entry["title"]
            assert len(entry["title"]) <= 32 and len(entry["description"]) <= 128


def test_the_manifest_command_writes_the_zip_from_any_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("MicrosoftAppId", "WELLBEING_TEAMS_APP_ID", "WELLBEING_ORG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert main(["manifest"]) == 0
    out = capsys.readouterr()
    built = tmp_path / "build" / "wellbeing-teams-app.zip"
    assert f"Wrote {built.relative_to(tmp_path)}" in out.out
    assert "warning: No MicrosoftAppId is set" in out.err
    assert read_package(built.read_bytes())["bots"][0]["botId"] == LOCAL_PLACEHOLDER_BOT_ID

    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    assert main(["manifest", "--out", str(tmp_path / "teams.zip")]) == 0
    assert read_package((tmp_path / "teams.zip").read_bytes())["bots"][0]["botId"] == APP_ID
    assert "placeholder bot id" not in capsys.readouterr().err
