"""Per-turn cost of a check-in answer: N Action.Execute submissions (`checkin.submit`) through the
real app, one at a time, counting SQL statements, transactions and pool checkouts per turn and
CPU milliseconds per turn. No load, no fan-out: what one answer costs, not how a queue behaves.

    .venv/bin/python bench/turn_profile.py --turns 300 --db sqlite
    .venv/bin/python bench/turn_profile.py --turns 300 --db postgres --profile /tmp/turn.prof

The app (`bot.app.create_app`, local mode, scheduler off) runs in this process behind aiohttp on
a loopback port; the fake Bot Connector (bench/_fake_connector.py) runs in a process of its own,
so its CPU is not counted. The HTTP client posting the invokes is in this process, so CPU ms per
turn includes it (about a millisecond). Statements are counted only in the tasks serving
/api/messages (the outbox sender's idle polls are left out, and counted apart).

Each person answers `--turns / --people` times; each person's first answer also creates their
Person and Conversation rows (as it does for someone who answers before the directory import).
Half the people are recipients of the open cycle, as people answering their weekly card are.

Prints the figures and ends with ONE line of JSON holding all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    DEFAULT_PG,
    Database,
    answerer_id,
    checkin_submission,
    machine,
    org_config,
    report,
    require_loopback_database,
    start_connector,
    stop_process,
)

IN_TURN: contextvars.ContextVar[Counter | None] = contextvars.ContextVar("in_turn", default=None)


NOTE = "A private note about this week, long enough to encrypt."


async def setup_cycle(engine, services, people: int) -> int:
    """An open cycle with every other submitting person as a recipient."""
    from sqlalchemy import insert

    from core.store.cycles import CycleRecipient
    from core.store.models import utcnow
    from scheduler import checkins

    now = utcnow()
    async with services.sessions() as session:
        cycle = await checkins._get_or_create_cycle(session, services, date.today(), now)
        await session.commit()
        cycle_id = cycle.id
    rows = [
        {
            "cycle_id": cycle_id,
            "aad_object_id": answerer_id(i),
            "due_at": now,
            "answered": False,
            "reminded": False,
        }
        for i in range(0, people, 2)
    ]
    if rows:
        async with engine.begin() as conn:
            await conn.execute(insert(CycleRecipient.__table__), rows)
    return cycle_id


def attach_counters(engine, sender_counts: Counter) -> None:
    from sqlalchemy import event

    def count(key: str) -> None:
        counts = IN_TURN.get()
        (counts if counts is not None else sender_counts)[key] += 1

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        count("statements")
        count(f"sql_{verb.lower()}")

    @event.listens_for(engine.sync_engine, "commit")
    def _commit(conn) -> None:
        count("commits")

    @event.listens_for(engine.sync_engine.pool, "checkout")
    def _checkout(dbapi_connection, record, proxy) -> None:
        count("pool_checkouts")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from aiohttp import web

    from bot.app import ENGINE, SERVICES, create_app
    from core.config.settings import Settings
    from core.privacy import secrets as privacy

    tmp = tempfile.TemporaryDirectory(prefix="bench-turn-")
    database = Database(args.db, args.db_url, Path(tmp.name))
    database.create()
    connector, connector_url = await start_connector(0, False, "count")
    keys = privacy.generate()
    settings = Settings(
        _env_file=None,
        database_url=database.url,
        scheduler_enabled=False,
        pseudonym_key=keys["WELLBEING_PSEUDONYM_KEY"],
        data_keys=keys["WELLBEING_DATA_KEYS"],
    )
    app = create_app(settings, org=org_config(), auto_migrate=True)

    pending: dict[str, Counter] = {}  # a turn's counters, by the ?turn= key its request carries

    @web.middleware
    async def counted(request: web.Request, handler):
        token = IN_TURN.set(pending.pop(request.query.get("turn", ""), None))
        try:
            return await handler(request)
        finally:
            IN_TURN.reset(token)

    app.middlewares.append(counted)
    runner = web.AppRunner(app, access_log=None)
    sender_counts: Counter = Counter()
    per_turn: list[Counter] = []
    cpu_ms: list[float] = []
    wall_ms: list[float] = []
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/messages"
        engine, services = app[ENGINE], app[SERVICES]
        cycle_id = await setup_cycle(engine, services, args.people)
        attach_counters(engine, sender_counts)
        week = date.today().isocalendar().week

        async with aiohttp.ClientSession() as http:

            async def one(n: int, measured: bool) -> None:
                note = NOTE if args.notes and n % 4 == 0 else None
                body = checkin_submission(
                    services.secrets,
                    n % args.people,
                    connector_url,
                    cycle_id,
                    week,
                    1 + n % 5,
                    note,
                )
                counts: Counter = Counter()
                key = uuid.uuid4().hex
                pending[key] = counts
                cpu0, wall0 = time.process_time(), time.perf_counter()
                async with http.post(f"{url}?turn={key}", json=body) as response:
                    text = await response.text()
                    if response.status != 200 or "Thank you" not in text:
                        raise SystemExit(f"turn {n} failed: {response.status}")
                if measured:
                    cpu_ms.append((time.process_time() - cpu0) * 1000)
                    wall_ms.append((time.perf_counter() - wall0) * 1000)
                    per_turn.append(counts)

            for n in range(args.warmup):  # compile queries and templates: not measured
                await one(args.people + n, False)
            sender_counts.clear()
            if profiler:
                profiler.enable()
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            for n in range(args.turns):
                await one(n, True)
            cpu_total = time.process_time() - cpu_start
            wall_total = time.perf_counter() - wall_start
            if profiler:
                profiler.disable()
    finally:
        await runner.cleanup()
        await stop_process(connector)
        database.drop()
        tmp.cleanup()

    keys_seen = sorted({k for c in per_turn for k in c})
    first = [c for i, c in enumerate(per_turn) if i < args.people]
    repeat = [c for i, c in enumerate(per_turn) if i >= args.people]

    def mean(rows: list[Counter], key: str) -> float:
        return round(statistics.fmean(c[key] for c in rows), 2) if rows else 0.0

    figures: dict[str, Any] = {
        "bench": "turn_profile",
        "db": args.db,
        "turns": args.turns,
        "people": args.people,
        "notes": args.notes,
        "statements_per_turn": mean(per_turn, "statements"),
        "statements_first_answer": mean(first, "statements"),
        "statements_repeat_answer": mean(repeat, "statements"),
        "commits_per_turn": mean(per_turn, "commits"),
        "pool_checkouts_per_turn": mean(per_turn, "pool_checkouts"),
        "by_kind_per_turn": {k: mean(per_turn, k) for k in keys_seen if k.startswith("sql_")},
        "cpu_ms_per_turn": round(cpu_total * 1000 / args.turns, 2),
        "cpu_ms_p50": round(statistics.median(cpu_ms), 2),
        "wall_ms_p50": round(statistics.median(wall_ms), 2),
        "wall_ms_p99": round(sorted(wall_ms)[int(0.99 * (len(wall_ms) - 1))], 2),
        "wall_ms_per_turn": round(wall_total * 1000 / args.turns, 2),
        "sender_statements_meanwhile": sender_counts["statements"],
        "profiled": bool(profiler),
        "machine": machine(),
    }
    if profiler:
        profiler.dump_stats(str(args.profile))
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--people", type=int, default=100, help="distinct people answering")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--notes", action="store_true", help="a private note on every 4th answer")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--db-url", default=DEFAULT_PG, help="PostgreSQL server (loopback only)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the measured turns")
    parser.add_argument("--top", type=int, default=40, help="functions shown with --profile")
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    if args.db == "postgres":
        require_loopback_database(args.db_url)
    figures = asyncio.run(run(args))
    print(f"{'by kind':>28}: {figures['by_kind_per_turn']}")
    report(
        figures,
        (
            "statements_per_turn",
            "statements_first_answer",
            "statements_repeat_answer",
            "commits_per_turn",
            "pool_checkouts_per_turn",
            "cpu_ms_per_turn",
            "cpu_ms_p50",
            "wall_ms_p50",
            "wall_ms_p99",
            "sender_statements_meanwhile",
        ),
        args.save,
    )


if __name__ == "__main__":
    main()
