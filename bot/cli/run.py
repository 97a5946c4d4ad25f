"""Running the bot and talking to it: `serve`, `demo` and `console`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import sys
from pathlib import Path

from aiohttp import web

from bot import demo
from bot.app import create_app
from bot.cli.common import CliError, load_settings
from bot.console import DEFAULT_TENANT, Console, ConsoleUser
from bot.pages import SERVER_OPTIONS
from core import db
from core.config.orgconfig import ConfigError, OrgConfig, load_org_config
from core.config.settings import Settings
from core.logs import configure_logging
from dialogs.wiring import build_services

log = logging.getLogger("wellbeing-bot")


def _serving(args: argparse.Namespace) -> tuple[Settings, OrgConfig]:
    """The settings to serve with (host and port from the command line), checked; and the org."""
    settings = load_settings()
    configure_logging(settings.log_level)
    host = args.host or settings.host
    port = args.port or settings.port
    org = load_org_config(settings.org_config)
    refusal = settings.listen_refusal(host) or settings.serve_refusal()
    if refusal:
        raise CliError(refusal)
    return settings.model_copy(update={"host": host, "port": port}), org


def _serve(settings: Settings, org: OrgConfig) -> None:
    mode = "local mode (anonymous auth)" if settings.local_mode else "Bot Framework auth"
    log.info(
        "starting for %s in %s on http://%s:%s/api/messages",
        org.organisation.name,
        mode,
        settings.host,
        settings.port,
    )
    web.run_app(
        create_app(settings, org=org),
        host=settings.host,
        port=settings.port,
        print=None,
        **SERVER_OPTIONS,
    )


def cmd_serve(args: argparse.Namespace) -> None:
    """Start the bot's web server."""
    _serve(*_serving(args))


def cmd_demo(args: argparse.Namespace) -> None:
    """Start the bot on a demo database of its own, seeded with weeks of made-up answers."""
    settings, org = _serving(args)
    refusal = demo.demo_refusal(settings)
    if refusal:
        raise CliError(refusal)
    settings = demo.demo_settings(settings, Path.cwd()).model_copy(
        update={"card_banner": settings.card_banner or demo.BANNER}
    )

    async def seed() -> demo.Seeded:
        engine = db.create_engine(settings.database_url)
        try:
            await db.migrate(engine)
            clock = demo.SeedClock(args.clock())
            services = build_services(settings, org, engine, clock=clock)
            return await demo.seed(services, clock, random.Random(args.seed))
        finally:
            await engine.dispose()

    seeded = asyncio.run(seed())
    print(
        f"Demo data in {demo.DEMO_DATABASE}: {seeded.people} made-up staff in "
        f"{len(org.teams)} teams, {seeded.weeks} closed weeks, {seeded.answers} answers. "
        "In another terminal: `.venv/bin/wellbeing-bot console --as manager` (or staff, lead, "
        "coordinator); README's 'A ten-minute walk' says what to try.",
        flush=True,
    )
    _serve(settings, org)


def cmd_console(args: argparse.Namespace) -> int:
    """Chat with a running bot in this terminal, playing Teams and the Bot Connector."""

    settings = load_settings()
    tenant, time_zone, roles, team_group_id = DEFAULT_TENANT, "Europe/London", {}, None
    try:
        org = load_org_config(settings.org_config)
        tenant = org.organisation.tenant_id or tenant
        time_zone = org.organisation.timezone
        roles = demo.cast(org)
        team_group_id = org.teams[0].id if org.teams else None
    except ConfigError:
        print(
            "Note: the organisation config didn't load, so the console sends a made-up tenant "
            "id; if the bot ignores you, pass its tenant with --tenant.",
            file=sys.stderr,
        )
    tenant = args.tenant or tenant
    cast = {role: ConsoleUser(aad, name, tenant, time_zone) for role, (aad, name) in roles.items()}
    if args.as_role and args.as_role.lower() not in cast:
        raise CliError(f"no role called {args.as_role!r}: choose from {', '.join(cast)}")
    if args.as_role:
        user = cast[args.as_role.lower()]
    elif args.user:
        user = ConsoleUser(args.user.lower(), args.name, tenant, time_zone)
    else:
        user = ConsoleUser.new(name=args.name, tenant_id=tenant, time_zone=time_zone)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    url = args.url or f"http://{host}:{settings.port}/api/messages"
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    console = Console(
        url,
        user=user,
        out=sys.stdout,
        returning=bool(args.user or args.as_role),
        cast=cast,
        reachable=("coordinator", "backup"),
        team_group_id=team_group_id,
    )
    status = asyncio.run(console.run())
    if console.output_lost:
        # The reader of the output (say, `| head`) has gone: end quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the bot (http://HOST:PORT/api/messages)")
    serve.add_argument("--host", help="address to listen on (default WELLBEING_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default WELLBEING_PORT or 3978)")
    serve.set_defaults(func=cmd_serve)

    demo_command = commands.add_parser(
        "demo",
        help="run the bot on its own demo database, seeded with made-up teams and weeks of answers",
    )
    demo_command.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    demo_command.add_argument("--port", type=int, help="port (default WELLBEING_PORT or 3978)")
    demo_command.add_argument(
        "--seed", type=int, default=2026, help="the made-up answers' random seed (default 2026)"
    )
    demo_command.set_defaults(func=cmd_demo)
    console = commands.add_parser(
        "console",
        help="chat with a running bot in this terminal (no Teams needed)",
        description="Chat with a running bot in this terminal. The console plays Teams and the Bot "
        "Connector: it installs the app as a new person (so you see the welcome), sends what you "
        "type as Teams messages, and shows cards as text with numbered buttons: type a number to "
        "press one. /help explains, /quit leaves. Start the bot first (./run-bot) in local mode.",
    )
    console.add_argument(
        "--url",
        help="the bot's messages endpoint (default http://127.0.0.1:WELLBEING_PORT/api/messages)",
    )
    console.add_argument("--name", default="Alex Wilber", help="your display name in the chat")
    console.add_argument(
        "--user", help="an AAD object id to be the same person again (default: a new person)"
    )
    console.add_argument(
        "--as",
        dest="as_role",
        metavar="ROLE",
        help="start as a role from the organisation config: staff, manager, lead, coordinator, "
        "backup, admin or hr (/as inside switches)",
    )
    console.add_argument(
        "--tenant", help="tenant id to send (default: organisation.tenant_id from the config)"
    )
    console.set_defaults(func=cmd_console)
