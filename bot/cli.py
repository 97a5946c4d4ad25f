"""The `wellbeing-bot` command: serve, migrate, and check or document the configuration."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from core import db
from core.logs import configure_logging
from core.orgconfig import ConfigError, OrgConfig, load_org_config
from core.settings import Settings

log = logging.getLogger("wellbeing-bot")


class CliError(Exception):
    """A problem the person running the command can fix; printed without a traceback."""


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise CliError(f"bad settings in the environment or .env:\n{problems}") from error


def cmd_serve(args: argparse.Namespace) -> None:
    """Start the bot's web server."""
    from aiohttp import web

    from bot.app import create_app

    settings = _settings()
    configure_logging(settings.log_level)
    host = args.host or settings.host
    port = args.port or settings.port
    org = load_org_config(settings.org_config)
    refusal = settings.listen_refusal(host)
    if refusal:
        raise CliError(refusal)
    mode = "local mode (anonymous auth)" if settings.local_mode else "Bot Framework auth"
    log.info(
        "starting for %s in %s on http://%s:%s/api/messages",
        org.organisation.name,
        mode,
        host,
        port,
    )
    web.run_app(create_app(settings, org=org), host=host, port=port, print=None)


def cmd_migrate(_args: argparse.Namespace) -> None:
    """Apply database migrations."""
    settings = _settings()
    configure_logging(settings.log_level)

    async def _run() -> None:
        engine = db.create_engine(settings.database_url)
        try:
            await db.migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(_run())
    print("Database schema is up to date.")


def cmd_config_check(args: argparse.Namespace) -> None:
    """Validate the organisation config."""
    settings = _settings()
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
    from core.configdocs import render_markdown

    sys.stdout.write(render_markdown())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wellbeing-bot",
        description="A Microsoft Teams wellbeing bot: weekly check-ins, signposting to support, "
        "team-level prompts for managers, and an HR policy FAQ.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the bot (http://HOST:PORT/api/messages)")
    serve.add_argument("--host", help="address to listen on (default WELLBEING_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default WELLBEING_PORT or 3978)")
    serve.set_defaults(func=cmd_serve)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (CliError, ConfigError) as error:
        print(f"wellbeing-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
