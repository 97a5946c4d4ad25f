"""What HR brings in and the wellbeing lead takes out: `org import`, `kpi import`, `report`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.cli.common import CliError, iso_date, with_services
from core.config import orgimport
from core.reporting import kpi, leadreport
from core.reporting.leadreport_html import write_report
from core.store import audit


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

    configured = with_services(work, args.clock)
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

    replaced = with_services(work, args.clock)
    months = sorted({r.month for r in rows})
    span = months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"
    print(
        f"Imported {len(rows)} row(s) of HR figures for {span} from {path}"
        + (f"; {replaced} replaced what was imported before." if replaced else ".")
    )


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

    report = with_services(work, args.clock)
    out = Path(args.out)
    try:
        written = write_report(report, out)
    except OSError as error:
        raise CliError(f"cannot write the report to {out}: {error.strerror}") from error
    print(f"Wrote {written[0]} and {len(written) - 1} CSV file(s) to {out}.")
    for line in report.summary:
        print(f"  {line}")


def register(commands: argparse._SubParsersAction) -> None:
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
        type=iso_date,
        metavar="DATE",
        help="first day, YYYY-MM-DD",
    )
    report.add_argument(
        "--to",
        dest="end",
        required=True,
        type=iso_date,
        metavar="DATE",
        help="last day, YYYY-MM-DD",
    )
    report.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    report.set_defaults(func=cmd_report)
