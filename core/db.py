"""The database engine and its migrations: SQLite by default, PostgreSQL when a URL says so."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
T = TypeVar("T")


def async_url(url: str) -> str:
    """Map a plain sqlite:// or postgresql:// URL to the async driver this project uses."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif backend in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:// or postgresql://")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


CONNECT_TIMEOUT = 5.0
"""Seconds to open a connection (PostgreSQL) or to wait for another writer's lock (SQLite)."""
STATEMENT_TIMEOUT = 30.0
"""Seconds PostgreSQL lets one statement run (migrations have none)."""
KEEPALIVE_SECONDS = 5
"""TCP keepalive idle time and the unit of tcp_user_timeout: a peer gone silent (a partition,
not a refusal) breaks the connection in seconds instead of the kernel's minutes."""


def _postgres_options(url: str, statement_timeout: float) -> str:
    """The URL with `statement_timeout` added to libpq's `options` (kept with what it has, such
    as a test schema's search_path)."""
    parsed = make_url(url)
    options = parsed.query.get("options") or ""
    if isinstance(options, tuple):
        options = " ".join(options)
    options = f"{options} -c statement_timeout={int(statement_timeout * 1000)}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def create_engine(
    url: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    statement_timeout: float = STATEMENT_TIMEOUT,
    pool_size: int = 10,
    max_overflow: int = 10,
    pre_ping: bool = True,
) -> AsyncEngine:
    """An async engine that survives the database going away and coming back (pre-ping), and
    whose waits are bounded: a connect, a lock wait and a statement time out instead of holding
    a turn past Teams' 15 s (the turn itself gives up earlier: bot/handler.py). Without
    `pre_ping` a connection the database dropped fails one statement, and is then replaced.

    SQL parameters are hidden from error messages: they hold ids, and errors get logged.
    """
    url = async_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(
            url,
            connect_args={"timeout": connect_timeout},  # SQLite's busy timeout
            hide_parameters=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_async_engine(
        _postgres_options(url, statement_timeout),
        hide_parameters=True,
        pool_pre_ping=pre_ping,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=10,
        connect_args={
            "connect_timeout": max(1, math.ceil(connect_timeout)),
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_SECONDS,
            "keepalives_interval": KEEPALIVE_SECONDS,
            "keepalives_count": 2,
            "tcp_user_timeout": KEEPALIVE_SECONDS * 3 * 1000,
        },
    )


class DatabaseTimeout(TimeoutError):
    """The database did not answer in time; what was waiting for it has been given up."""


async def abandon_after(work: Awaitable[T], seconds: float) -> T:
    """`work`'s result if it finishes within `seconds`; otherwise DatabaseTimeout at once.

    `asyncio.wait_for` would wait for the cancelled work to finish, and a database driver's
    cancellation may itself wait on the silent server (psycopg asks the server to cancel the
    statement and waits up to 10 s more). Here the work is left to finish or fail on its own
    (the connect, statement and lock timeouts bound it), so the caller answers on time. It is
    not cancelled: cancelling it inside SQLAlchemy's async bridge could leave a task that never
    ends (seen with a locked SQLite file), which held the event loop's shutdown forever."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if task in done:
        return task.result()
    task.add_done_callback(_quietly)
    raise DatabaseTimeout(f"no answer within {seconds:g} s")


UNREACHABLE_SIGNS = ("connection", "timeout", "timed out", "locked", "busy", "server closed")
"""Words of a driver's OperationalError that mean the database could not be reached or was held
by another writer, as opposed to a fault in the statement or the schema."""


def is_unreachable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached now (a connect timeout, a dropped or
    timed-out connection, no free pooled connection, SQLite's lock wait running out)."""
    if isinstance(error, sa_exc.TimeoutError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    reason = str(error.orig).lower()
    return error.connection_invalidated or any(sign in reason for sign in UNREACHABLE_SIGNS)


def _quietly(task: asyncio.Task) -> None:
    """Retrieve an abandoned task's outcome so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


@dataclass
class _Borrowed:
    """One pooled connection lent to one task (a turn) for the sessions it opens in turn."""

    engine: AsyncEngine
    connection: AsyncConnection
    task: asyncio.Task | None
    open: bool = False


_BORROWED: ContextVar[_Borrowed | None] = ContextVar("borrowed_connection", default=None)


class _OnBorrowedConnection(AsyncSession):
    """A session on the turn's connection; closing it hands the connection back to the turn."""

    def __init__(self, borrowed: _Borrowed, **kw: Any):
        super().__init__(bind=borrowed.connection, **kw)
        self._borrowed = borrowed

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._borrowed.open = False


class Sessions(async_sessionmaker[AsyncSession]):
    """The session factory. Inside `one_connection()`, the sessions one task opens one after
    another all run on one pooled connection: each is still its own transaction (it begins on
    the idle connection, and its commit or close ends it), but a turn checks a connection out,
    and pings it, once instead of once per session. A session opened while another is open on
    that connection, by another task (tasks started from the turn copy its context) or on
    another engine gets a pooled connection of its own, as it would anyway."""

    def __call__(self, **local_kw: Any) -> AsyncSession:
        borrowed = _BORROWED.get()
        if (
            borrowed is not None
            and not borrowed.open
            and not local_kw
            and borrowed.engine is self.kw.get("bind")
            and borrowed.task is asyncio.current_task()
            and not borrowed.connection.closed
        ):
            borrowed.open = True
            return _OnBorrowedConnection(borrowed, expire_on_commit=False)
        return super().__call__(**local_kw)

    @contextlib.asynccontextmanager
    async def one_connection(self) -> AsyncIterator[None]:
        """Lend one connection to the sessions this task opens until the block ends."""
        engine = self.kw.get("bind")
        current = _BORROWED.get()
        if not isinstance(engine, AsyncEngine) or (
            current is not None
            and current.engine is engine
            and current.task is asyncio.current_task()
        ):
            yield
            return
        async with engine.connect() as connection:
            token = _BORROWED.set(_Borrowed(engine, connection, asyncio.current_task()))
            try:
                yield
            finally:
                _BORROWED.reset(token)


def session_factory(engine: AsyncEngine) -> Sessions:
    return Sessions(engine, class_=AsyncSession, expire_on_commit=False)


async def ping(engine: AsyncEngine, timeout: float = 2.5) -> None:
    """Raise when the database cannot answer a trivial query within `timeout` seconds (then at
    once, even when the database drops packets instead of refusing)."""

    async def _query() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    await abandon_after(_query(), timeout)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # A migration may rewrite or index a large table: no statement timeout for it.
        connection.execute(text("SET LOCAL statement_timeout = 0"))
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema up to every migration head (safe to run again).

    Features add migrations on branches of their own from 0001, so there may be several heads.
    """
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _is_current(connection: Connection) -> bool:
    heads = set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    return set(MigrationContext.configure(connection).get_current_heads()) == heads


async def schema_is_current(engine: AsyncEngine) -> bool:
    """Whether every migration has been applied (servers on PostgreSQL check this at start)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_is_current)


def is_postgres(session: AsyncSession) -> bool:
    """Whether the session talks to PostgreSQL (else SQLite, the embedded default)."""
    return session.bind is not None and session.bind.dialect.name == "postgresql"


def upsert_insert(session: AsyncSession, table):
    """An INSERT that can say ON CONFLICT (DO NOTHING / DO UPDATE) on the session's backend."""
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(table)
