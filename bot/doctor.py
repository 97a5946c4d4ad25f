"""`wellbeing-bot doctor`: do the settings, organisation config, database, app package and bot
registration agree? Two ids that disagree make a bot that is silent in Teams with no error
anywhere, so each check says what it found and the one thing to do about it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlmodel import select

from core import db
from core.config.orgconfig import ConfigError, OrgConfig, load_org_config
from core.config.settings import GUID, Settings
from core.store import directory
from core.store.models import Conversation, Person, Team
from dialogs.router import default_commands
from manifest.package import LOCAL_PLACEHOLDER_BOT_ID, build_package, read_package, teams_app_id

Status = Literal["OK", "WARN", "FAIL"]
APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
UPLOAD_STEPS = "upload it again (Teams admin centre: Teams apps, Manage apps, the app, Upload file)"


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, what was found, and the one thing to do when it is wrong."""

    status: Status
    subject: str
    detail: str
    fix: str = ""


def _ok(subject: str, detail: str) -> Check:
    """A check that passed."""
    return Check("OK", subject, detail)


def _warn(subject: str, detail: str, fix: str) -> Check:
    """Worth fixing, but the bot works meanwhile."""
    return Check("WARN", subject, detail, fix)


def _fail(subject: str, detail: str, fix: str) -> Check:
    """The bot will not work (or not in Teams) until this is fixed."""
    return Check("FAIL", subject, detail, fix)


def load_settings() -> tuple[Settings | None, Check]:
    """The settings, or a FAIL naming each bad one (nothing else can be checked without them)."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        return None, _fail(
            "settings",
            f"some settings can't be used: {problems}",
            "Correct them in the environment or .env (.env.example describes every one).",
        )
    mode = "local mode (no MicrosoftAppId)" if settings.local_mode else "Bot Framework auth"
    return settings, _ok("settings", f"read from the environment and .env; {mode}")


def check_org(settings: Settings) -> tuple[OrgConfig | None, Check]:
    """The organisation config loads; if not, its own message names the file, key and problem."""
    where = str(settings.org_config) if settings.org_config else "the bundled example"
    try:
        org = load_org_config(settings.org_config)
    except ConfigError as error:
        return None, _fail(
            "organisation config",
            str(error),
            f"Correct the key named above in {where} (`wellbeing-bot config check` rechecks it; "
            "docs/org-config.md lists every key).",
        )
    return org, _ok(
        "organisation config", f"{where}: {org.organisation.name}, {len(org.teams)} teams"
    )


def check_registration(settings: Settings, org: OrgConfig | None) -> list[Check]:
    """The Azure Bot registration settings: present, well formed, and the same tenant as config."""
    subject = "bot registration"
    if settings.local_mode:
        return [
            _warn(
                subject,
                "no MicrosoftAppId, so the bot runs in local mode: anonymous and reachable only "
                "from this computer. Right for trying it out; Teams can't reach it.",
                "To connect Teams, create an Azure Bot and set MicrosoftAppId and "
                "MicrosoftAppPassword (README, 'Deploying to Teams').",
            )
        ]
    found: list[Check] = []
    app_id, app_type = settings.microsoft_app_id, settings.microsoft_app_type
    if not GUID.match(app_id):
        found.append(
            _fail(
                subject,
                f"MicrosoftAppId {app_id!r} is not a GUID.",
                "Copy the Microsoft App ID from the Azure Bot's Configuration page.",
            )
        )
    if app_type not in APP_TYPES:
        found.append(
            _fail(
                subject,
                f"MicrosoftAppType {app_type!r} is not one of {', '.join(APP_TYPES)}.",
                "Set MicrosoftAppType to the type shown on the Azure Bot's Configuration page.",
            )
        )
    if app_type != "UserAssignedMSI" and not settings.microsoft_app_password:
        found.append(
            _fail(
                subject,
                "MicrosoftAppId is set but MicrosoftAppPassword is empty, so the bot can't sign "
                "its replies and nothing it sends reaches Teams.",
                "Create a client secret (Azure portal: App registrations, the bot's app, "
                "Certificates & secrets) and set MicrosoftAppPassword to it.",
            )
        )
    if app_type == "SingleTenant" and not settings.microsoft_app_tenant_id:
        found.append(
            _fail(
                subject,
                "MicrosoftAppType is SingleTenant but MicrosoftAppTenantId is empty.",
                "Set MicrosoftAppTenantId to your tenant id (Azure portal: Microsoft Entra ID, "
                "Overview).",
            )
        )
    org_tenant = org.organisation.tenant_id if org else None
    app_tenant = settings.microsoft_app_tenant_id
    if app_tenant and org_tenant and app_tenant.lower() != org_tenant.lower():
        found.append(
            _fail(
                subject,
                f"MicrosoftAppTenantId {app_tenant} is not organisation.tenant_id {org_tenant}: "
                "the bot would refuse every message from the tenant its registration serves.",
                "Make them the same: your tenant id is on Microsoft Entra ID's Overview page.",
            )
        )
    if not found:
        tenant = f", tenant {app_tenant}" if app_tenant else ""
        found.append(_ok(subject, f"app id {app_id}, {app_type}{tenant}"))
    return found


def check_endpoint(settings: Settings) -> Check:
    """Teams only calls an https messaging endpoint; say which address Azure should have."""
    subject = "messaging endpoint"
    url = settings.public_url
    if not url:
        if settings.local_mode:
            return _ok(subject, f"local: http://{settings.host}:{settings.port}/api/messages")
        return _warn(
            subject,
            "WELLBEING_PUBLIC_URL is not set, so the endpoint can't be checked.",
            "Set WELLBEING_PUBLIC_URL to the https address Teams reaches the bot on, e.g. "
            "https://bot.example.nhs.uk.",
        )
    endpoint = f"{url}/api/messages"
    if not settings.local_mode and not url.lower().startswith("https://"):
        return _fail(
            subject,
            f"{endpoint} is not https; Teams only calls https endpoints.",
            "Serve the bot behind HTTPS and set WELLBEING_PUBLIC_URL to its https:// address.",
        )
    return _ok(subject, f"{endpoint} (the Azure Bot's messaging endpoint must be exactly this)")


def check_package(settings: Settings, org: OrgConfig | None, package: Path | None) -> list[Check]:
    """The manifest's bot id must be MicrosoftAppId: the classic cause of a silent bot."""
    subject = "app package"
    if package is not None:
        try:
            manifest = read_package(package.read_bytes())
        except OSError as error:
            return [
                _fail(
                    subject,
                    f"can't read {package} ({error.strerror}).",
                    "Build it with `wellbeing-bot manifest --out FILE`.",
                )
            ]
        except ValueError as error:
            return [
                _fail(
                    subject,
                    f"{package} can't be used: {error}.",
                    "Build it with `wellbeing-bot manifest --out FILE`.",
                )
            ]
        where, warnings = str(package), []
    elif org is None:
        return [
            _warn(
                subject,
                "not checked: the package is built from the organisation config, which didn't load.",
                "Fix the organisation config first.",
            )
        ]
    else:
        built = build_package(settings, org, default_commands())
        manifest, where, warnings = (
            built.manifest,
            "the package `wellbeing-bot manifest` builds",
            [],
        )
        if not settings.local_mode:
            warnings = built.warnings
    found: list[Check] = []
    bots = manifest.get("bots") or [{}]
    packaged = str((bots[0] or {}).get("botId") or "")
    expected = settings.microsoft_app_id or LOCAL_PLACEHOLDER_BOT_ID
    if packaged.lower() != expected.lower():
        shown = settings.microsoft_app_id or "empty (local mode)"
        found.append(
            _fail(
                subject,
                f"{where} has bot id {packaged or '(none)'}, but MicrosoftAppId is {shown}. Teams "
                f"delivers this app's messages to the bot registered as {packaged or 'nothing'}, "
                "so this bot never hears them and seems silent.",
                f"Rebuild the package with `wellbeing-bot manifest` using these settings and "
                f"{UPLOAD_STEPS}.",
            )
        )
    elif settings.local_mode:
        found.append(
            _warn(
                subject,
                f"{where} has the placeholder bot id {LOCAL_PLACEHOLDER_BOT_ID} (local mode).",
                "Set MicrosoftAppId before building a package to upload.",
            )
        )
    expected_app = settings.teams_app_id or (teams_app_id(settings, org) if org else "")
    packaged_app = str(manifest.get("id") or "")
    if expected_app and packaged_app.lower() != expected_app.lower():
        found.append(
            _warn(
                subject,
                f"{where} has Teams app id {packaged_app}, but these settings give "
                f"{expected_app}: uploading a package with another app id adds a second app "
                "instead of updating the first.",
                f"Set WELLBEING_TEAMS_APP_ID={packaged_app} to keep the app already uploaded.",
            )
        )
    found.extend(
        _warn(subject, warning, "Set it, then rebuild the package.") for warning in warnings
    )
    if not found:
        found.append(_ok(subject, f"{where}: bot id {packaged} is MicrosoftAppId"))
    return found


def _sqlite_file(url: str) -> Path | None:
    """The SQLite file a URL names, so doctor can say it is missing instead of creating it."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


async def check_database(settings: Settings) -> tuple[Check, bool]:
    """Reachable and migrated; doctor never creates or changes a database itself."""
    subject = "database"
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    file = _sqlite_file(settings.database_url)
    if file is not None and not file.exists():
        return _warn(
            subject,
            f"{shown}: the SQLite file doesn't exist yet.",
            "It is created and migrated when the bot starts (./run-bot), or run "
            "`wellbeing-bot migrate`.",
        ), False
    try:
        engine = db.create_engine(settings.database_url)
    except ValueError as error:
        return _fail(subject, f"{shown}: {error}.", "Correct DATABASE_URL."), False
    try:
        await db.ping(engine)
        current = await db.schema_is_current(engine)
    # Any failure to connect or read the schema version means "unreachable" here; the kind is
    # shown, never the driver's message (it can carry the address and user).
    except Exception as error:
        return _fail(
            subject,
            f"{shown}: can't connect ({type(error).__name__}).",
            "Check DATABASE_URL, and that the database server is running and reachable from here.",
        ), False
    finally:
        await engine.dispose()
    if not current:
        return _fail(
            subject,
            f"{shown}: the schema is out of date.",
            "Run `wellbeing-bot migrate` (before starting the new version of the bot).",
        ), False
    return _ok(subject, f"{shown}: reachable and migrated"), True


def _some(items: list[str], limit: int = 10) -> str:
    """A readable list that stays one screen long in a large organisation."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def configured_people(org: OrgConfig) -> list[tuple[str, str]]:
    """Every person the config names, with the key that names them."""
    roles = org.roles
    groups: list[tuple[str, Iterable[str]]] = [
        ("roles.admins", roles.admins),
        ("roles.wellbeing_leads", roles.wellbeing_leads),
        ("roles.coordinators.primary", roles.coordinators.primary),
        ("roles.coordinators.backup", roles.coordinators.backup),
        ("roles.hr_admins", roles.hr_admins),
    ]
    groups += [(f"teams[{i}].managers", team.managers) for i, team in enumerate(org.teams)]
    return [(f"{key}[{i}]", ref) for key, refs in groups for i, ref in enumerate(refs)]


async def check_directory(settings: Settings, org: OrgConfig) -> list[Check]:
    """Configured people, teams and the HR experts channel, against what the bot has seen."""
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    found: list[Check] = []
    try:
        async with sessions() as session:
            people = configured_people(org)
            unseen: list[str] = []
            for key, ref in people:
                aad = await directory.resolve_person(session, ref)
                if aad is None or await session.get(Person, aad) is None:
                    unseen.append(f"{key} {ref}")
            if unseen:
                found.append(
                    _warn(
                        "people",
                        f"{len(unseen)} of {len(people)} people in the config are not seen yet: "
                        + _some(unseen),
                        "Not seen yet: they need to install the app or be in a team the bot is in "
                        "(this clears by itself as they do).",
                    )
                )
            else:
                found.append(_ok("people", f"all {len(people)} people in the config are known"))

            unseen_teams = []
            for index, team in enumerate(org.teams):
                rows = await session.exec(select(Team.id).where(Team.aad_group_id == team.id))
                if rows.first() is None:
                    unseen_teams.append(f"teams[{index}] {team.name}")
            if unseen_teams:
                found.append(
                    _warn(
                        "teams",
                        f"{len(unseen_teams)} of {len(org.teams)} teams have not added the app "
                        "yet: " + _some(unseen_teams),
                        "Add the app to each of these teams in Teams (the team's Manage team, "
                        "Apps).",
                    )
                )
            elif org.teams:
                found.append(_ok("teams", f"the app is in all {len(org.teams)} configured teams"))

            channel = org.roles.hr_experts_channel
            if channel:
                channel_id = re.sub(r";messageid=.*$", "", channel)
                row = await session.get(Conversation, channel_id)
                if row is None or row.kind != "channel":
                    found.append(
                        _warn(
                            "HR experts channel",
                            f"roles.hr_experts_channel {channel_id} is not a channel the bot has "
                            "seen.",
                            "Add the app to the team that owns the channel and @mention the bot "
                            "there once, so it stores the channel.",
                        )
                    )
                else:
                    found.append(_ok("HR experts channel", f"{channel_id} is stored"))
    finally:
        await engine.dispose()
    return found


async def diagnose(package: Path | None = None) -> list[Check]:
    """Every check, in the order a fix is easiest to follow."""
    settings, settings_check = load_settings()
    checks = [settings_check]
    if settings is None:
        return checks
    org, org_check = check_org(settings)
    checks.append(org_check)
    checks.extend(check_registration(settings, org))
    checks.append(check_endpoint(settings))
    checks.extend(check_package(settings, org, package))
    database_check, database_ready = await check_database(settings)
    checks.append(database_check)
    if database_ready and org is not None:
        checks.extend(await check_directory(settings, org))
    return checks


def report(checks: list[Check], out: TextIO) -> int:
    """Print each check with its fix; 1 when anything FAILed, else 0."""
    for check in checks:
        lines = check.detail.split("\n")
        out.write(f"{check.status:<5} {check.subject}: {lines[0]}\n")
        for line in lines[1:]:
            out.write(f"      {line}\n")
        if check.fix:
            out.write(f"      fix: {check.fix}\n")
    failures = sum(check.status == "FAIL" for check in checks)
    warnings = sum(check.status == "WARN" for check in checks)
    if failures:
        out.write(
            f"\n{failures} problem{'s' if failures != 1 else ''} to fix"
            f" and {warnings} warning{'s' if warnings != 1 else ''}.\n"
        )
        return 1
    out.write(f"\nNothing to fix; {warnings} warning{'s' if warnings != 1 else ''}.\n")
    return 0
