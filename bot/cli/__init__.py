"""The `wellbeing-bot` command, one module per group of commands in one style: each module has
its `cmd_…` functions and a `register` that adds its parsers.

- run: serve, demo, console
- deployment: migrate, config, manifest, doctor, secrets
- checkins: checkins preview|send|hold|release|abort|status, schedule
- faq: faq import|export|seed
- data: org import, kpi import, report
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.cli import checkins, data, deployment, faq, run
from bot.cli.common import CliError
from core.config.orgconfig import ConfigError
from core.faq.io import FaqFileError
from core.privacy.secrets import SecretsError
from core.store.models import utcnow
from scheduler.checkins import CycleError

USER_ERRORS = (CliError, ConfigError, SecretsError, CycleError, FaqFileError)
"""Problems the person running the command can fix: one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wellbeing-bot",
        description="A Microsoft Teams wellbeing bot: weekly check-ins, signposting to support, "
        "team-level prompts for managers, and an HR policy FAQ.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in (run, deployment, checkins, faq, data):
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Callable[[], datetime] = utcnow) -> int:
    """Run one command. `clock` is the one clock every command reads for 'now'."""
    args = build_parser().parse_args(argv)
    args.clock = clock
    try:
        status = args.func(args)
    except USER_ERRORS as error:
        print(f"wellbeing-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return status or 0
