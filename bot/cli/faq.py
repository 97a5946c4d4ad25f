"""`wellbeing-bot faq import|export|seed|coverage`: the HR FAQ's entries in and out of the
database, and whether they hold every part of the North West toolkit."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.common import CliError, with_session
from core.faq import coverage as faq_coverage
from core.faq import io as faq_io


def cmd_faq_import(args: argparse.Namespace) -> None:
    """Add and update FAQ entries from a CSV or YAML file; a bad file changes nothing."""
    path = Path(args.file)
    entries = faq_io.read_file(path)

    async def work(session, now):
        result = await faq_io.save_entries(session, entries, now)
        await session.commit()
        return result

    result = with_session(work, args.clock)
    print(
        f"Imported {path}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged."
    )


def cmd_faq_export(args: argparse.Namespace) -> None:
    """Write every FAQ entry (retired ones too) to a CSV or YAML file."""
    path = Path(args.file)
    faq_io.file_kind(path)
    entries = with_session(lambda session, _now: faq_io.all_entries(session), args.clock)
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

    added = with_session(work, args.clock)
    if added:
        print(f"Loaded the shipped HR FAQ ({added} entries).")
    else:
        print("The FAQ already has entries, so nothing was changed.")


def cmd_faq_coverage(args: argparse.Namespace) -> int:
    """List the toolkit's sections, tables, resources and contacts that no live entry holds;
    exit status 1 when there is one, so a build can fail on it."""
    entries = faq_io.read_file(Path(args.file)) if args.file else faq_io.seed_entries()
    result = faq_coverage.coverage(entries)
    source = args.file or "the shipped FAQ (core/faq/data/faq.yaml)"
    for item, holders in result.held_by.items():
        if args.all or not holders:
            where = ", ".join(holders) if holders else "NO ENTRY"
            print(f"[{item.kind}] {item.part} / {item.title}: {where}")
    missing = result.missing
    print(
        f"{len(result.held_by) - len(missing)} of {len(result.held_by)} toolkit items are held "
        f"by an entry in {source}" + (f"; {len(missing)} have none." if missing else ".")
    )
    return 1 if missing else 0


def register(commands: argparse._SubParsersAction) -> None:
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
    faq_cover = faq_commands.add_parser(
        "coverage",
        help="list the toolkit's sections, tables, resources and contacts no entry holds",
        description="An item is held when a live entry's answer has at least 60%% of the content "
        "words of the toolkit's words for it (core/faq/data/toolkit_outline.yaml). Exit status 1 "
        "when any item has no entry.",
    )
    faq_cover.add_argument(
        "file", nargs="?", help="a .csv or .yaml FAQ file (default: the shipped FAQ)"
    )
    faq_cover.add_argument("--all", action="store_true", help="also list the items that are held")
    faq_cover.set_defaults(func=cmd_faq_coverage)
