"""Helpers shared by the benchmarks: loopback checks, database set-up, the fake connector
process, machine facts and CPU readings."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import os
import platform
import secrets
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import insert
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.store.models import Conversation, Person, utcnow  # noqa: E402

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
BOT_ID = "28:bot-app-id"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def require_loopback(host: str | None, what: str) -> None:
    """Refuse anything but this machine: the benchmarks flood what they talk to."""
    if not host:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as error:
        raise SystemExit(f"{what}: cannot resolve {host!r}") from error
    if not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise SystemExit(f"{what}: {host!r} is not a loopback address; refusing")


def require_loopback_database(url: str) -> None:
    """`--db-url` must name a server on this machine (see require_loopback)."""
    require_loopback(make_url(url).host or "127.0.0.1", "--db-url")


def report(figures: dict[str, Any], keys: tuple[str, ...], save: Path | None) -> None:
    """Print the headline figures, then every figure as ONE line of JSON (also to `save`)."""
    width = max(len(key) for key in keys)
    for key in keys:
        print(f"{key:>{width}}: {figures[key]}")
    line = json.dumps(figures, sort_keys=True)
    if save:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(line + "\n")
    print(line)


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def system_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, other people's work included."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def cpu_and_peak_rss(pid: int) -> tuple[float, float]:
    """CPU seconds and peak RSS (MB) of a live child, read just before it is killed."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / ticks
    hwm = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    return cpu, hwm


def machine_cpu_percent(before: tuple[float, float], after: tuple[float, float]) -> float:
    """Busy share of all cores between two readings, as % of ONE core (so 200 = both full)."""
    busy, total = after[0] - before[0], after[1] - before[1]
    return round(100.0 * (os.cpu_count() or 1) * busy / total, 1) if total else 0.0


class Database:
    """A fresh database: an SQLite file in a temp dir, or a PostgreSQL schema of its own."""

    def __init__(self, kind: str, base_url: str, tmpdir: Path):
        self.kind, self.base_url, self.schema = kind, base_url, None
        if kind == "sqlite":
            self.url = f"sqlite:///{tmpdir / 'bench.db'}"
        else:
            parsed = make_url(base_url)
            require_loopback(parsed.host or "127.0.0.1", "--db-url")
            self.schema = f"bench_{secrets.token_hex(4)}"
            joiner = "&" if "?" in base_url else "?"
            self.url = f"{base_url}{joiner}options={quote('-csearch_path=' + self.schema)}"

    def create(self) -> None:
        if self.schema:
            import psycopg

            with psycopg.connect(self.base_url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def drop(self) -> None:
        if self.schema:
            import psycopg

            with psycopg.connect(self.base_url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


def org_config():
    """The bundled example organisation, with its calendar parsed once.

    core/config/checkinconfig.py's CheckinConfig.notes() re-reads and re-validates the bundled YAML on
    every call (once per person queued, ~50 ms each); spelling the same notes out in the config
    avoids that without changing what is sent.
    """
    from core.config.checkinconfig import bundled_calendar
    from core.config.orgconfig import load_org_config

    org = load_org_config(None)
    checkin = org.checkin.model_copy(update={"calendar": bundled_calendar()})
    return org.model_copy(update={"checkin": checkin})


def person_id(prefix: str, i: int) -> str:
    return f"{prefix}{i:06d}"


def answerer_id(i: int) -> str:
    """The Entra object id of the i-th simulated person answering a check-in."""
    return f"00000000-0000-4000-8000-{i:012d}"


def checkin_submission(
    keys: Any,
    i: int,
    connector_url: str,
    cycle_id: int,
    week: int,
    mood: int,
    note: str | None = None,
    *,
    submit: bool = False,
    card_message_id: str = "1795458335384",
) -> dict[str, Any]:
    """A real-shaped Action.Execute `checkin.submit` from the i-th person, a new card each time,
    issued to them for the cycle as the bot issues one (signed with the bot's `keys`); with
    `submit`, the same answer by Action.Submit (a message the bot acknowledges by updating
    the card message `card_message_id`, a request against Teams' limit)."""
    from dialogs.checkin import issue_card_id
    from tests.support.activities import TeamsUser, card_execute, card_submit

    data: dict[str, Any] = {
        "command": "checkin submit",
        "card_id": issue_card_id(keys, answerer_id(i), cycle_id),
        "cycle_id": cycle_id,
        "week": week,
        "mood": str(mood),
    }
    if note:
        data["note"] = note
    user = TeamsUser(aad_object_id=answerer_id(i))
    if submit:
        return card_submit(user, connector_url, data, reply_to_id=card_message_id)
    return card_execute(user, connector_url, "checkin.submit", data)


def conversation_id(aad: str) -> str:
    return f"a:personal-{aad}"


async def insert_people(engine, prefix: str, count: int, service_url: str) -> None:
    """Everything a person needs to be reachable: a Person with a personal chat, and that chat."""
    now = utcnow()
    chunk = 5000
    for start in range(0, count, chunk):
        people, chats = [], []
        for i in range(start, min(count, start + chunk)):
            aad = person_id(prefix, i)
            chat = conversation_id(aad)
            people.append(
                {
                    "aad_object_id": aad,
                    "tenant_id": TENANT,
                    "teams_user_id": f"29:{aad}",
                    "time_zone": "Europe/London",
                    "personal_conversation_id": chat,
                    "personal_installed": True,
                    "unreachable_since": None,
                    "upn": None,
                    "updated_at": now,
                }
            )
            chats.append(
                {
                    "id": chat,
                    "kind": "personal",
                    "tenant_id": TENANT,
                    "service_url": service_url,
                    "bot_id": BOT_ID,
                    "aad_object_id": aad,
                    "team_id": None,
                    "reference": "{}",
                    "updated_at": now,
                }
            )
        async with engine.begin() as conn:
            await conn.execute(insert(Person.__table__), people)
            await conn.execute(insert(Conversation.__table__), chats)


async def start_connector(
    rps: float, faults: bool, limit_mode: str = "enforce"
) -> tuple[asyncio.subprocess.Process, str]:
    """The fake Bot Connector in its own process; returns it and its base URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "_fake_connector.py"),
        "--rps",
        str(rps),
        "--faults",
        "on" if faults else "off",
        "--limit-mode",
        limit_mode,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    if not line.startswith(b"PORT "):
        raise SystemExit("the fake connector did not start")
    return process, f"http://127.0.0.1:{int(line.split()[1])}"


async def stop_process(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        if process.stdin:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()
