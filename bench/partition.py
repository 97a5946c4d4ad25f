"""A database that drops packets (a partition, not a refusal): how long the bot takes to answer
a message and a card press, and /readyz, while PostgreSQL is reachable only through a loopback
TCP proxy that accepts connections and takes their bytes but forwards nothing.

    .venv/bin/python bench/partition.py --db-url postgresql://postgres@127.0.0.1:5432/test

The real app (`bot.app.create_app`, local mode, scheduler off, default timeouts unless given)
runs in this process behind aiohttp on a loopback port; the fake Bot Connector runs in a process
of its own. After a warm-up message (which leaves a live connection in the pool), the proxy is
partitioned and, one at a time, `--rounds` messages ("help"), card presses (Action.Execute) and
GETs of /readyz are timed from request to answer, each with a 60 s client guard: the first
message waits on the pooled connection, which never answers; the rest open new ones, which the
connect timeout ends. Then the partition heals and the time until /readyz says
200 again is timed.

Prints the figures and ends with ONE line of JSON holding all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from _common import (
    DEFAULT_PG,
    ROOT,
    Database,
    machine,
    org_config,
    report,
    require_loopback_database,
    start_connector,
    stop_process,
)
from sqlalchemy.engine import make_url

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GUARD_SECONDS = 60.0


async def _timed(call) -> tuple[float, Any]:
    start = time.perf_counter()
    try:
        async with asyncio.timeout(GUARD_SECONDS):
            result = await call()
    except TimeoutError:
        result = "no answer"
    return round(time.perf_counter() - start, 2), result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from aiohttp import web

    from bot import handler
    from bot.app import create_app
    from core.config.settings import Settings
    from core.privacy import secrets as privacy
    from tests.support.activities import TeamsUser, card_execute, personal_message
    from tests.support.tcp_proxy import TcpProxy

    tmp = tempfile.TemporaryDirectory(prefix="bench-partition-")
    database = Database("postgres", args.db_url, Path(tmp.name))
    database.create()
    url = make_url(database.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    connector, connector_url = await start_connector(50, False, "count")
    keys = privacy.generate()
    overrides = {}
    if args.turn_timeout:
        overrides["turn_timeout"] = args.turn_timeout
    settings = Settings(
        _env_file=None,
        database_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False
        ),
        scheduler_enabled=False,
        pseudonym_key=keys["WELLBEING_PSEUDONYM_KEY"],
        data_keys=keys["WELLBEING_DATA_KEYS"],
        **overrides,
    )
    app = create_app(settings, org=org_config(), auto_migrate=True)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    user = TeamsUser()
    apology = getattr(handler, "DATABASE_APOLOGY", None)  # None: code from before it had one
    figures: dict[str, Any] = {"bench": "partition", "machine": machine()}
    figures["turn_timeout_s"] = getattr(settings, "turn_timeout", None)
    figures["database_timeout_s"] = getattr(settings, "database_timeout", None)
    try:
        async with aiohttp.ClientSession() as http:

            async def readyz() -> int:
                async with http.get(base + "/readyz") as response:
                    return response.status

            async def message() -> str:
                body = personal_message(user, connector_url, "help")
                async with http.post(base + "/api/messages", json=body) as response:
                    return str(response.status)

            async def press() -> str:
                data = {"command": "checkin submit"}
                body = card_execute(user, connector_url, "checkin.submit", data)
                async with http.post(base + "/api/messages", json=body) as response:
                    answer = await response.json(content_type=None)
                value = answer.get("value") if isinstance(answer, dict) else None
                return "apology" if apology and value == apology else f"{response.status}"

            await message()  # warm: the connection pool holds live connections
            proxy.partition()
            results: dict[str, list[tuple[float, Any]]] = {"readyz": [], "message": [], "press": []}
            for _ in range(args.rounds):  # the first message meets the pooled connection
                results["message"].append(await _timed(message))
                results["press"].append(await _timed(press))
                results["readyz"].append(await _timed(readyz))
            for name, rows in results.items():
                seconds = [s for s, _ in rows]
                figures[f"{name}_s_max"] = max(seconds)
                figures[f"{name}_s_median"] = round(statistics.median(seconds), 2)
                figures[f"{name}_answers"] = sorted({str(r) for _, r in rows})
            proxy.heal()
            healed = time.perf_counter()
            status = 0
            while status != 200 and time.perf_counter() - healed < GUARD_SECONDS:
                _, status = await _timed(readyz)
            figures["ready_again_s"] = round(time.perf_counter() - healed, 2)
    finally:
        proxy.heal()
        await runner.cleanup()
        await proxy.close()
        await stop_process(connector)
        database.drop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default=DEFAULT_PG, help="PostgreSQL server (loopback only)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--turn-timeout", type=float, help="WELLBEING_TURN_TIMEOUT (default 10)")
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    require_loopback_database(args.db_url)
    figures = asyncio.run(run(args))
    keys = tuple(k for k in figures if k.endswith(("_max", "_median", "_again_s")))
    report(figures, keys, args.save)


if __name__ == "__main__":
    main()
