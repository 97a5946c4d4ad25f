"""Build the Teams app package (manifest.json and two icons in a zip) from settings and config.

The command lists come from the live command table, so the menu Teams shows never offers a
command the bot does not understand.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import Any

from core.config.orgconfig import OrgConfig
from core.config.settings import Settings
from dialogs.commands import Command, CommandTable
from dialogs.text import normalise

LOCAL_PLACEHOLDER_BOT_ID = "00000000-0000-0000-0000-000000000000"
"""The bot id of a package built in local mode: clearly not a real registration."""

PLACEHOLDER_URL = "https://example.invalid/wellbeing-bot"
"""Where the package's website and privacy links point until they are configured."""

TEAMS_APP_NAMESPACE = uuid.UUID("5d0f1c52-8a8e-4d5f-9b9a-6c1d2e7f4a31")
"""Fixed namespace for the default Teams app id, so the same bot always packages the same app."""

MAX_COMMANDS = 10
"""Teams shows at most ten commands a list (the manifest schema's limit)."""

PERSONAL_PRIORITY = (
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
    "delete my data",
    "my requests",
    "team",
    "prompts",
    "faq",
)
"""What people most need in their own chat, first; commands not named here follow in help order."""

SHARED_PRIORITY = ("faq", "help")
"""What people most need in a channel or group chat, first."""

ICONS = ("color.png", "outline.png")


@dataclass
class AppPackage:
    """A built package: the manifest, what its icons are, and anything the builder should know."""

    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def to_zip(self) -> bytes:
        """The zip Teams accepts: manifest.json and the icons at the top level, byte-for-byte stable."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            text = json.dumps(self.manifest, indent=2, ensure_ascii=False)
            archive.writestr(_entry("manifest.json"), text.encode("utf-8"))
            for name in ICONS:
                archive.writestr(_entry(name), icon_bytes(name))
        return buffer.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date, so the same inputs always give the same package bytes."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def icon_bytes(name: str) -> bytes:
    """An icon shipped inside this package, found from any working directory."""
    return (resources.files("manifest") / name).read_bytes()


def _template() -> dict[str, Any]:
    """The manifest template shipped inside this package."""
    return json.loads((resources.files("manifest") / "manifest.template.json").read_text("utf-8"))


def app_version() -> str:
    """The project's version as the plain semver Teams needs (an upload must raise it)."""
    try:
        version = metadata.version("wellbeing-bot")
    except metadata.PackageNotFoundError:
        return "0.1.0"
    numbers = [str(int(part)) for part in re.findall(r"\d+", version)]
    return ".".join([*numbers, "0", "0", "0"][:3])


def teams_app_id(settings: Settings, org: OrgConfig) -> str:
    """The configured Teams app id, or a stable one derived from the bot id or organisation name."""
    if settings.teams_app_id:
        return settings.teams_app_id
    seed = settings.microsoft_app_id.lower() or f"org:{org.organisation.name}"
    return str(uuid.uuid5(TEAMS_APP_NAMESPACE, seed))


def bot_id(settings: Settings) -> str:
    """MicrosoftAppId, which Teams uses to route the app's messages; a placeholder locally."""
    return settings.microsoft_app_id.lower() or LOCAL_PLACEHOLDER_BOT_ID


def _shorten(text: str, limit: int) -> str:
    """Fit a name into a manifest field, cutting at a word and saying so with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def _describe(command: Command) -> str:
    """The command's help line as Teams shows it: plain text, capitalised, within the limit."""
    summary = command.summary.replace("**", "")
    return _shorten(summary[:1].upper() + summary[1:], 128)


def _title(table: CommandTable, command: Command) -> str:
    """What Teams inserts when the command is picked: its usage when that reads better and
    still reaches the same command on its own (`my check-ins`), else its name."""
    usage = command.usage
    if usage and "[" not in usage and len(usage) <= 32:
        match = table.match(usage)
        if match is not None and match.command is command and not match.argument:
            return usage
    return command.name


def command_list(
    table: CommandTable, scope: str, priority: tuple[str, ...]
) -> list[dict[str, str]]:
    """The commands Teams offers in a scope: most needed first, at most ten, each typeable."""
    available = [c for c in table.available_in(scope) if len(c.name) <= 32]
    rank = {normalise(name): index for index, name in enumerate(priority)}
    ordered = sorted(available, key=lambda c: (rank.get(c.name, len(rank)), available.index(c)))
    return [
        {"title": _title(table, c), "description": _describe(c)} for c in ordered[:MAX_COMMANDS]
    ]


def _fill(value: Any, fields: dict[str, str]) -> Any:
    """Put this deployment's values into every string of the template."""
    if isinstance(value, str):
        return value.format(**fields)
    if isinstance(value, list):
        return [_fill(item, fields) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, fields) for key, item in value.items()}
    return value


def _host(url: str) -> str:
    """The host name of a URL, as validDomains lists it."""
    return re.sub(r"^[a-zA-Z]+://", "", url).split("/")[0].split(":")[0]


def build_package(settings: Settings, org: OrgConfig, commands: CommandTable) -> AppPackage:
    """The app package for this deployment; warnings say what still needs setting before upload."""
    warnings: list[str] = []
    if settings.local_mode:
        warnings.append(
            f"No MicrosoftAppId is set, so the package uses the placeholder bot id "
            f"{LOCAL_PLACEHOLDER_BOT_ID}. Teams cannot reach a bot with that id: set MicrosoftAppId "
            "to your Azure Bot's app id before building a package to upload."
        )
    website = settings.website_url or PLACEHOLDER_URL
    privacy = settings.privacy_url or settings.website_url or PLACEHOLDER_URL
    if not settings.website_url:
        warnings.append(
            f"WELLBEING_WEBSITE_URL is not set, so the package's website and terms links point to "
            f"{PLACEHOLDER_URL}. Set it to an https page about the bot for your staff."
        )
    if not settings.privacy_url:
        warnings.append(
            f"WELLBEING_PRIVACY_URL is not set, so the package's privacy link points to {privacy}. "
            "Set it to the bot's privacy notice."
        )
    name = org.organisation.name
    fields = {
        "app_version": app_version(),
        "teams_app_id": teams_app_id(settings, org),
        "developer_name": _shorten(name, 32),
        "website_url": website,
        "privacy_url": privacy,
        "full_name": _shorten(f"Wellbeing at {name}", 100),
        "org_name": name,
        "bot_id": bot_id(settings),
    }
    manifest = _fill(_template(), fields)
    manifest["description"]["full"] = _shorten(manifest["description"]["full"], 4000)
    bot = manifest["bots"][0]
    if settings.supports_files:
        bot["supportsFiles"] = True
    lists = [
        {"scopes": ["personal"], "commands": command_list(commands, "personal", PERSONAL_PRIORITY)},
        {
            "scopes": ["team", "groupChat"],
            "commands": command_list(commands, "channel", SHARED_PRIORITY),
        },
    ]
    bot["commandLists"] = [entry for entry in lists if entry["commands"]]
    if settings.public_url:
        manifest["validDomains"] = [_host(settings.public_url)]
    return AppPackage(manifest=manifest, warnings=warnings)


def read_package(data: bytes) -> dict[str, Any]:
    """The manifest inside a built package; ValueError says plainly what is wrong with the file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "manifest.json" not in names:
                raise ValueError("it has no manifest.json at the top level of the zip")
            manifest = json.loads(archive.read("manifest.json").decode("utf-8-sig"))
    except zipfile.BadZipFile as error:
        raise ValueError("it is not a zip file") from error
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"its manifest.json is not valid JSON ({error})") from error
    if not isinstance(manifest, dict):
        raise ValueError("its manifest.json is not a JSON object")
    return manifest
