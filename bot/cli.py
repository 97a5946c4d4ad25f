"""The `wellbeing-bot` command: serve, migrate, check or document the configuration, chat from a
terminal, build the Teams app package, and diagnose a deployment."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot import cli_checkins, demo
from bot.app import create_app
from bot.console import DEFAULT_TENANT, Console, ConsoleUser
from bot.doctor import diagnose, report
from bot.pages import SERVER_OPTIONS
from core import audit, db, kpi, leadreport, orgimport
from core.configdocs import render_markdown
from core.faq import io as faq_io
from core.leadreport_html import write_report
from core.logs import configure_logging
from core.models import utcnow
from core.orgconfig import ConfigError, OrgConfig, load_org_config
from core.privacy import SecretsError, generate
from core.retention import reencrypt_all
from core.settings import Settings
from dialogs.router import default_commands
from dialogs.wiring import build_services
from manifest.package import build_package

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


def _serving(args: argparse.Namespace) -> tuple[Settings, OrgConfig]:
    """The settings to serve with (host and port from the command line), checked; and the org."""
    settings = _settings()
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


def cmd_migrate(args: argparse.Namespace) -> None:
    """Apply database migrations."""
    settings = _settings()
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


def _faq_database(work, clock: Callable[[], datetime]):
    """Run `work(session, now)` against DATABASE_URL (migrating SQLite first, as `serve` does)."""
    settings = _settings()

    async def _run():
        engine = db.create_engine(settings.database_url)
        try:
            if db.is_sqlite(settings.database_url):
                await db.migrate(engine)
            elif not await db.schema_is_current(engine):
                raise CliError("the database schema is out of date: run `wellbeing-bot migrate`")
            async with db.session_factory(engine)() as session:
                return await work(session, clock())
        finally:
            await engine.dispose()

    return asyncio.run(_run())


def cmd_faq_import(args: argparse.Namespace) -> None:
    """Add and update FAQ entries from a CSV or YAML file; a bad file changes nothing."""
    path = Path(args.file)
    entries = faq_io.read_file(path)

    async def work(session, now):
        result = await faq_io.save_entries(session, entries, now)
        await session.commit()
        return result

    result = _faq_database(work, args.clock)
    print(
        f"Imported {path}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged."
    )


def cmd_faq_export(args: argparse.Namespace) -> None:
    """Write every FAQ entry (retired ones too) to a CSV or YAML file."""
    path = Path(args.file)
    faq_io.file_kind(path)
    entries = _faq_database(lambda session, _now: faq_io.all_entries(session), args.clock)
    try:
        faq_io.write_file(path, entries)
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}") from error
    print(f"Exported {len(entries)} FAQ entries to {path}.")


def cmd_faq_seed(args: argparse.Namespace) -> None:
    """Load the shipped FAQ when the database has none yet."""

    async def work(session, now):
        added = await faq_io.seed_if_empty(session, now)
        await session.commit()
        return added

    added = _faq_database(work, args.clock)
    if added:
        print(f"Loaded the shipped HR FAQ ({added} entries).")
    else:
        print("The FAQ already has entries, so nothing was changed.")


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

    sys.stdout.write(render_markdown())


def cmd_console(args: argparse.Namespace) -> int:
    """Chat with a running bot in this terminal, playing Teams and the Bot Connector."""

    settings = _settings()
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


def cmd_manifest(args: argparse.Namespace) -> None:
    """Build the Teams app package zip from the settings and organisation config."""

    settings = _settings()
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


def _with_services(work: Callable[[Any], Awaitable[Any]], clock: Callable[[], datetime]) -> Any:
    """Run `work(services)` against the configured database (migrated first on SQLite); the
    services read `clock`, the command line's one clock."""

    settings = _settings()
    org = load_org_config(settings.org_config)

    async def main() -> Any:
        engine = db.create_engine(settings.database_url)
        try:
            if db.is_sqlite(settings.database_url):
                await db.migrate(engine)
            return await work(build_services(settings, org, engine, clock=clock))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def cmd_secrets_rotate(args: argparse.Namespace) -> None:
    """Re-encrypt stored notes and state under the first key of WELLBEING_DATA_KEYS."""

    async def work(services: Any) -> dict[str, int]:
        return await reencrypt_all(services, services.clock())

    counts = _with_services(work, args.clock)
    print(
        f"Re-encrypted {counts['notes']} note(s), {counts['states']} conversation state "
        f"document(s), {counts['requests']} coordinator request(s) and "
        f"{counts['queued messages']} sealed queued message(s) under the first key. "
        "Once this has run everywhere, the old key can be removed from WELLBEING_DATA_KEYS."
    )


def cmd_org_import(args: argparse.Namespace) -> None:
    """Replace the imported teams and managers with those in FILE (all or nothing)."""

    path = Path(args.file)
    try:
        teams = orgimport.read_file(path)
    except orgimport.OrgImportError as error:
        raise CliError(str(error)) from error

    async def work(services: Any) -> set[str]:
        now = services.clock()
        async with services.sessions() as session:
            await orgimport.replace_imported(session, teams, now)
            audit.record(session, actor="cli", action=audit.ORG_IMPORT, at=now)
            await session.commit()
        return {t.id for t in services.org.teams}

    configured = _with_services(work, args.clock)
    overridden = sum(1 for t in teams if t.id in configured)
    managers = sum(len(t.managers) for t in teams)
    print(f"Imported {len(teams)} team(s) and {managers} manager(s) from {path}.")
    if overridden:
        print(
            f"{overridden} of them are also in the organisation config, whose entries are used "
            "for those teams."
        )


def cmd_kpi_import(args: argparse.Namespace) -> None:
    """Add HR figures by month and group from FILE (all or nothing; a month and group already
    imported is replaced)."""

    path = Path(args.file)
    try:
        rows = kpi.read_file(path)
    except kpi.KpiImportError as error:
        raise CliError(str(error)) from error

    async def work(services: Any) -> int:
        now = services.clock()
        async with services.sessions() as session:
            replaced = await kpi.replace(session, rows, now)
            audit.record(session, actor="cli", action=audit.KPI_IMPORT, at=now)
            await session.commit()
        return replaced

    replaced = _with_services(work, args.clock)
    months = sorted({r.month for r in rows})
    span = months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"
    print(
        f"Imported {len(rows)} row(s) of HR figures for {span} from {path}"
        + (f"; {replaced} replaced what was imported before." if replaced else ".")
    )


def _date(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from error


def cmd_report(args: argparse.Namespace) -> None:
    """Write the wellbeing lead's report (HTML with charts, and CSV files) to DIR."""

    if args.start > args.end:
        raise CliError("--from must be on or before --to")

    async def work(services: Any):
        now = services.clock()
        async with services.sessions() as session:
            await leadreport.snapshot_closed_cycles(session, now)
            audit.record(session, actor="cli", action=audit.REPORT, at=now)
            await session.commit()
            return await leadreport.build(session, services.org, args.start, args.end, now)

    report = _with_services(work, args.clock)
    out = Path(args.out)
    try:
        written = write_report(report, out)
    except OSError as error:
        raise CliError(f"cannot write the report to {out}: {error.strerror}") from error
    print(f"Wrote {written[0]} and {len(written) - 1} CSV file(s) to {out}.")
    for line in report.summary:
        print(f"  {line}")


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
    cli_checkins.register(commands)

    faq = commands.add_parser("faq", help="import, export or seed the HR FAQ")
    faq_commands = faq.add_subparsers(dest="faq_command", metavar="ACTION", required=True)
    faq_import = faq_commands.add_parser(
        "import",
        help="add and update entries from FILE (.csv or .yaml); a bad file changes nothing",
        description="Columns: " + ", ".join(faq_io.COLUMNS) + ". In CSV, phrasings and tags "
        "are separated by ' | '. Entries are matched by id; entries not in the file are kept.",
    )
    faq_import.add_argument("file", help="a .csv, .yaml or .yml file")
    faq_import.set_defaults(func=cmd_faq_import)
    faq_export = faq_commands.add_parser(
        "export", help="write every entry to FILE (.csv or .yaml), retired ones too"
    )
    faq_export.add_argument("file", help="a .csv, .yaml or .yml file (overwritten)")
    faq_export.set_defaults(func=cmd_faq_export)
    faq_seed = faq_commands.add_parser("seed", help="load the shipped FAQ if there are no entries")
    faq_seed.set_defaults(func=cmd_faq_seed)

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

    org = commands.add_parser("org", help="import the organisation's teams and managers")
    org_commands = org.add_subparsers(dest="org_command", metavar="ACTION", required=True)
    org_import = org_commands.add_parser(
        "import",
        help="replace the imported teams and managers with those in FILE",
        description="Import teams, directorates and managers from an HR export (CSV, or YAML as a "
        "list of rows) with the columns team_id, team_name, directorate, manager, enrolled: one "
        "row per team and manager. Every line is checked first; if any is wrong nothing is "
        "imported. Teams also in the organisation config keep the config's entry.",
    )
    org_import.add_argument("file", help="a .csv, .yaml or .yml file")
    org_import.set_defaults(func=cmd_org_import)

    kpi = commands.add_parser("kpi", help="import HR figures (sickness absence, turnover) by month")
    kpi_commands = kpi.add_subparsers(dest="kpi_command", metavar="ACTION", required=True)
    kpi_import = kpi_commands.add_parser(
        "import",
        help="add HR figures by month and group from FILE",
        description="Import HR figures from a CSV or YAML file (a list of rows) with the columns "
        "month (YYYY-MM), group (empty for the whole organisation), headcount, "
        "sickness_absence_rate (%), days_lost, turnover (%), leavers. Every line is checked "
        "first; if any is wrong nothing is imported. A month and group imported again replaces "
        "the earlier figures.",
    )
    kpi_import.add_argument("file", help="a .csv, .yaml or .yml file")
    kpi_import.set_defaults(func=cmd_kpi_import)

    report = commands.add_parser(
        "report",
        help="write the wellbeing lead's report (HTML and CSV) for a date range",
        description="Write report.html (charts included, one file to share) and a CSV file for "
        "every table into DIR, for the Wellbeing Wednesday check-ins scheduled from --from to "
        "--to. Aggregates only, with the same privacy rules as the managers' summaries.",
    )
    report.add_argument(
        "--from",
        dest="start",
        required=True,
        type=_date,
        metavar="DATE",
        help="first day, YYYY-MM-DD",
    )
    report.add_argument(
        "--to", dest="end", required=True, type=_date, metavar="DATE", help="last day, YYYY-MM-DD"
    )
    report.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Callable[[], datetime] = utcnow) -> int:
    """Run one command. `clock` is the one clock every command reads for 'now'."""
    args = build_parser().parse_args(argv)
    args.clock = clock
    try:
        status = args.func(args)
    except (
        CliError,
        ConfigError,
        SecretsError,
        cli_checkins.CheckinCommandError,
        faq_io.FaqFileError,
    ) as error:
        print(f"wellbeing-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
