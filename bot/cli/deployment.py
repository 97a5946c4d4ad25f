"""Setting up and checking a deployment: `migrate`, `config`, `manifest`, `doctor`, `secrets`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import CliError, load_settings, with_services
from bot.doctor import diagnose, report
from core import db
from core.config.configdocs import render_markdown
from core.config.orgconfig import OrgConfig, load_org_config
from core.faq import io as faq_io
from core.logs import configure_logging
from core.privacy.retention import reencrypt_all
from core.privacy.secrets import generate
from dialogs.router import default_commands
from manifest.package import build_package


def cmd_migrate(args: argparse.Namespace) -> None:
    """Apply database migrations."""
    settings = load_settings()
    configure_logging(settings.log_level)

    async def _run() -> int:
        engine = db.create_engine(settings.database_url)
        try:
            await db.migrate(engine)
            async with db.session_factory(engine)() as session:
                seeded = await faq_io.seed_if_empty(session, args.clock())
                await session.commit()
            return seeded
        finally:
            await engine.dispose()

    seeded = asyncio.run(_run())
    print("Database schema is up to date.")
    if seeded:
        print(f"Loaded the shipped HR FAQ ({seeded} entries).")


def cmd_config_check(args: argparse.Namespace) -> None:
    """Validate the organisation config."""
    settings = load_settings()
    path = args.file or settings.org_config
    org = load_org_config(path)
    print(
        f"OK: {path or 'the bundled example organisation'} ({org.organisation.name}, "
        f"{len(org.teams)} teams)"
    )


def cmd_config_schema(_args: argparse.Namespace) -> None:
    """Print the organisation config's JSON Schema."""
    print(json.dumps(OrgConfig.model_json_schema(), indent=2))


def cmd_config_docs(_args: argparse.Namespace) -> None:
    """Print the Markdown reference for the organisation config."""

    sys.stdout.write(render_markdown())


def cmd_manifest(args: argparse.Namespace) -> None:
    """Build the Teams app package zip from the settings and organisation config."""

    settings = load_settings()
    org = load_org_config(settings.org_config)
    package = build_package(settings, org, default_commands())
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(package.to_zip())
    except OSError as error:
        raise CliError(f"cannot write {out}: {error.strerror}") from error
    for warning in package.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    bot = package.manifest["bots"][0]["botId"]
    print(f"Wrote {out} (Teams app id {package.manifest['id']}, bot id {bot}).")
    print(
        "Upload it in the Teams admin centre (Teams apps, Manage apps, Upload new app), "
        "then run `wellbeing-bot doctor --package " + str(out) + "`."
    )


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check that settings, config, database, app package and bot registration agree."""

    configure_logging("WARNING")
    checks = asyncio.run(diagnose(Path(args.package) if args.package else None))
    return report(checks, sys.stdout)


def cmd_secrets_generate(_args: argparse.Namespace) -> None:
    """Print new secrets for the environment (store them safely and back them up)."""
    for name, value in generate().items():
        print(f"{name}={value}")


def cmd_secrets_rotate(args: argparse.Namespace) -> None:
    """Re-encrypt stored notes and state under the first key of WELLBEING_DATA_KEYS."""

    async def work(services: Any) -> dict[str, int]:
        return await reencrypt_all(services, services.clock())

    counts = with_services(work, args.clock)
    print(
        f"Re-encrypted {counts['notes']} note(s), {counts['states']} conversation state "
        f"document(s), {counts['requests']} coordinator request(s) and "
        f"{counts['queued messages']} sealed queued message(s) under the first key. "
        "Once this has run everywhere, the old key can be removed from WELLBEING_DATA_KEYS."
    )


def register(commands: argparse._SubParsersAction) -> None:
    migrate = commands.add_parser("migrate", help="apply database migrations to DATABASE_URL")
    migrate.set_defaults(func=cmd_migrate)
    config = commands.add_parser("config", help="check or document the organisation config")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_commands.add_parser("check", help="validate a config file and say what is wrong")
    check.add_argument(
        "file", nargs="?", help="YAML file (default WELLBEING_ORG_CONFIG or the example)"
    )
    check.set_defaults(func=cmd_config_check)
    schema = config_commands.add_parser("schema", help="print the JSON Schema")
    schema.set_defaults(func=cmd_config_schema)
    docs = config_commands.add_parser(
        "docs", help="print the Markdown reference (docs/org-config.md)"
    )
    docs.set_defaults(func=cmd_config_docs)
    package = commands.add_parser(
        "manifest",
        help="build the Teams app package (a zip to upload to Teams)",
        description="Build the Teams app package from the settings (MicrosoftAppId is the bot id, "
        "WELLBEING_TEAMS_APP_ID the app id) and the organisation config. Its command menus come "
        "from the bot's own command table.",
    )
    package.add_argument(
        "--out",
        default="build/wellbeing-teams-app.zip",
        help="where to write the zip (default build/wellbeing-teams-app.zip)",
    )
    package.set_defaults(func=cmd_manifest)

    doctor = commands.add_parser(
        "doctor",
        help="check that settings, config, database, app package and bot registration agree",
        description="Check the settings, organisation config, database, Teams app package and bot "
        "registration against each other, printing OK, WARN or FAIL with a fix for each. Exits 1 "
        "when anything FAILs.",
    )
    doctor.add_argument(
        "--package", help="a built app package to check (default: the one `manifest` would build)"
    )
    doctor.set_defaults(func=cmd_doctor)
    secrets = commands.add_parser("secrets", help="make the keys that protect wellbeing data")
    secrets_commands = secrets.add_subparsers(
        dest="secrets_command", metavar="ACTION", required=True
    )
    generate_parser = secrets_commands.add_parser(
        "generate", help="print new WELLBEING_PSEUDONYM_KEY and WELLBEING_DATA_KEYS values"
    )
    generate_parser.set_defaults(func=cmd_secrets_generate)
    rotate_parser = secrets_commands.add_parser(
        "rotate",
        help="re-encrypt stored data under the first key of WELLBEING_DATA_KEYS",
        description="After putting a new key first in WELLBEING_DATA_KEYS (keeping the old one "
        "after it), re-encrypt every stored note, conversation state, coordinator request and "
        "sealed queued message under the new key. Then the old key can be removed. See "
        "docs/privacy.md.",
    )
    rotate_parser.set_defaults(func=cmd_secrets_rotate)
