"""What every command shares: settings read once with clear errors, the database opened (and
migrated on SQLite, checked on PostgreSQL), the services on the command line's one clock."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeVar

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from core import db
from core.config.orgconfig import load_org_config
from core.config.settings import Settings
from core.context import Services
from dialogs.wiring import build_services

T = TypeVar("T")


class CliError(Exception):
    """A problem the person running the command can fix; printed without a traceback."""


def load_settings() -> Settings:
    """The settings from the environment and .env, or one message naming what is wrong."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise CliError(f"bad settings in the environment or .env:\n{problems}") from error


async def _ready(engine, settings: Settings) -> None:
    """Migrate SQLite (as `serve` does); refuse a PostgreSQL schema that is out of date."""
    if db.is_sqlite(settings.database_url):
        await db.migrate(engine)
    elif not await db.schema_is_current(engine):
        raise CliError("the database schema is out of date: run `wellbeing-bot migrate` first")


def with_services(work: Callable[[Services], Awaitable[T]], clock: Callable[[], datetime]) -> T:
    """Run `work(services)` against the configured database; the services read `clock`."""
    settings = load_settings()
    org = load_org_config(settings.org_config)

    async def main() -> T:
        engine = db.create_engine(settings.database_url)
        try:
            await _ready(engine, settings)
            return await work(build_services(settings, org, engine, clock=clock))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def with_session(
    work: Callable[[AsyncSession, datetime], Awaitable[T]], clock: Callable[[], datetime]
) -> T:
    """Run `work(session, now)` against the configured database (no organisation config needed)."""
    settings = load_settings()

    async def main() -> T:
        engine = db.create_engine(settings.database_url)
        try:
            await _ready(engine, settings)
            async with db.session_factory(engine)() as session:
                return await work(session, clock())
        finally:
            await engine.dispose()

    return asyncio.run(main())


def iso_date(value: str) -> date:
    """An argparse type: a YYYY-MM-DD date, or a clear refusal."""
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date: use YYYY-MM-DD") from error
