"""Shared fixtures: a database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
the real app on a free port, and a fake Bot Connector on another."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import uuid
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import pytest
import time_machine
from aiohttp.test_utils import TestServer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import SERVICES, create_app
from bot.connector import ConnectorTransport
from bot.pages import SERVER_OPTIONS
from core.config.orgconfig import OrgConfig, load_org_config
from core.config.settings import Settings
from core.context import Services
from core.faq import store as faq_store
from core.faq.io import seed_entries
from core.faq.meaning import encode_with_shipped, missing_vectors
from core.privacy import secrets as privacy
from tests.support import activities
from tests.support.clock import TEST_EPOCH, WALL_CLOCK_SHIFTS
from tests.support.fake_connector import FakeConnector
from tests.support.tokens import FixedTokenCredentialsFactory

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
TEST_SECRETS = {
    **privacy.generate(),
    "WELLBEING_SCHEDULER": "false",
    "WELLBEING_FAQ_WARM_START": "false",
}
BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def pytest_addoption(parser):
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=300,
        help="examples for each fuzz test of /api/messages (tests/test_fuzz_edge.py; default 300)",
    )


IDLE_LOOP = pytest.StashKey[asyncio.AbstractEventLoop]()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "time_sensitive: run with the wall clock both years ahead of and years behind the test "
        "clock (every other test gets one of the two)",
    )
    # pytest-asyncio asks for "the current event loop" before the first async test, which makes
    # one nobody closes; the first `asyncio.run` (the CLI tests) lets go of it, and its socket is
    # then reported unclosed in whichever test the garbage collector runs in. So there is one
    # from the start, held here and closed at the end.
    config.stash[IDLE_LOOP] = asyncio.new_event_loop()
    asyncio.set_event_loop(config.stash[IDLE_LOOP])


def pytest_unconfigure(config):
    if IDLE_LOOP in config.stash:
        config.stash[IDLE_LOOP].close()


def pytest_generate_tests(metafunc):
    if metafunc.definition.get_closest_marker("time_sensitive"):
        metafunc.parametrize("wall_clock", list(WALL_CLOCK_SHIFTS), indirect=True)


@pytest.fixture(autouse=True)
def wall_clock(request):
    """Put the real wall clock three years before or after the test clock, so the suite passes
    on any date and a code path that reads the wall clock where it was given a clock fails now.
    Tests marked `time_sensitive` run both ways; the others one way, fixed by their name.
    Bot Framework tokens are minted and checked by the SDK against this shifted wall clock,
    which is the real clock as far as the process can tell."""
    shifts = list(WALL_CLOCK_SHIFTS)
    name = getattr(request, "param", None) or shifts[zlib.crc32(request.node.nodeid.encode()) % 2]
    with time_machine.travel(TEST_EPOCH + WALL_CLOCK_SHIFTS[name], tick=True):
        yield


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Refuse connections anywhere but loopback: tests must never reach Microsoft."""
    real_connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in {"::1", "localhost"} or host.startswith("/")
        ):
            raise ConnectionRefusedError(f"tests may not connect to {host}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _postgres_schema_url(base: str, schema: str) -> str:
    url = make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'wellbeing.db'}"
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(POSTGRES_URL, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def org() -> OrgConfig:
    return load_org_config()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    fake._arrived = asyncio.Condition()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server(access_log=None)
    fake.url = str(server.make_url("/"))
    yield fake
    await server.close()


@pytest.fixture
async def transport(connector) -> AsyncIterator[ConnectorTransport]:
    """The real connector client against the fake Bot Connector, with short timeouts."""
    transport = ConnectorTransport(
        Settings(_env_file=None),
        FixedTokenCredentialsFactory("x"),
        timeout=0.5,
        connect_timeout=0.5,
    )
    await transport.start()
    yield transport
    await transport.close()


@dataclass
class RunningBot:
    """The real app on a port, and a client that posts activities to it like Teams does."""

    server: TestServer
    connector: FakeConnector
    session: aiohttp.ClientSession
    auth_header: str | None = None

    @property
    def services(self) -> Services:
        return self.server.app[SERVICES]

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    async def post(
        self,
        activity: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        data: bytes | io.BytesIO | None = None,
    ) -> aiohttp.ClientResponse:
        sent_headers = {"Content-Type": "application/json"}
        if self.auth_header:
            sent_headers["Authorization"] = self.auth_header
        sent_headers.update(headers or {})
        if data is None:
            response = await self.session.post(self.url, json=activity, headers=sent_headers)
        else:
            response = await self.session.post(self.url, data=data, headers=sent_headers)
        await response.read()
        return response

    async def fetch(self, method: str, path: str) -> tuple[aiohttp.ClientResponse, bytes]:
        """A browser's request to one of the app's pages (a signed link): response and body."""
        response = await self.session.request(method, self.server.make_url(path))
        return response, await response.read()

    async def say(self, user: activities.TeamsUser, text: str) -> list[dict[str, Any]]:
        """Type `text` in the user's personal chat; return what the bot sent back in that turn."""
        before = len(self.connector.sent)
        response = await self.post(activities.personal_message(user, self.connector.url, text))
        assert response.status == 200, response.status
        return [s.body for s in self.connector.sent[before:]]

    async def install(self, user: activities.TeamsUser) -> list[dict[str, Any]]:
        """Install the app in the user's personal scope; returns the welcome once it arrives
        (welcomes go through the paced outbox, as a flood of pre-installs would)."""
        before = len(self.connector.sent)
        response = await self.post(activities.personal_install(user, self.connector.url))
        assert response.status == 200, response.status
        await self.connector.wait_for(before + 1)
        return [s.body for s in self.connector.sent[before:]]


@pytest.fixture(scope="session")
def faq_encodings() -> dict[str, Any]:
    """The shipped FAQ's texts encoded once per test session. The bot encodes them on its first
    question (tests turn the warm start off); on a busy machine the 1,500 texts can take longer
    than a turn waits, so the tests that start a bot begin with them in the process's store, as
    a replica does once another has stored them."""
    return missing_vectors(faq_store.entry_texts(seed_entries()), {}, encode_with_shipped)


@pytest.fixture(autouse=True)
def _faq_encoded(request: pytest.FixtureRequest) -> None:
    """Every test that starts a bot finds the shipped FAQ's encodings made (`faq_encodings`)."""
    if "make_bot" in request.fixturenames:
        for key, vector in request.getfixturevalue("faq_encodings").items():
            faq_store._ENCODED.setdefault(key, vector)


@pytest.fixture
async def make_bot(database_url, connector, org) -> AsyncIterator[Callable[..., Any]]:
    """Start the app with settings overrides; every app started is stopped after the test."""
    started: list[RunningBot] = []

    async def start(
        *,
        clock: Callable[[], datetime] | None = None,
        org_config: OrgConfig | None = None,
        credentials_factory=None,
        **overrides: Any,
    ) -> RunningBot:
        settings = Settings(
            _env_file=None, **{"DATABASE_URL": database_url, **TEST_SECRETS, **overrides}
        )
        extra = {"clock": clock} if clock else {}
        app = create_app(
            settings,
            org=org_config or org,
            credentials_factory=credentials_factory,
            auto_migrate=True,
            **extra,
        )
        server = TestServer(app, host="127.0.0.1")
        await server.start_server(**SERVER_OPTIONS)
        running = RunningBot(server=server, connector=connector, session=aiohttp.ClientSession())
        started.append(running)
        return running

    yield start
    for running in started:
        await running.session.close()
        await running.server.close()


@pytest.fixture
async def bot(make_bot) -> RunningBot:
    return await make_bot()
