"""Fan-out benchmark: a check-in cycle for N people, sent by K replica processes through the
real outbox and sender, to a fake Bot Connector (own process) that enforces a per-tenant limit.

    .venv/bin/python bench/fanout.py --people 10000 --rps 50 --replicas 1 --db sqlite

Prints the figures and ends with ONE line of JSON holding all of them. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import resource
import signal
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    DEFAULT_PG,
    ROOT,
    Database,
    cpu_and_peak_rss,
    insert_people,
    machine,
    machine_cpu_percent,
    org_config,
    report,
    require_loopback_database,
    start_connector,
    stop_process,
    system_cpu,
)

PREFIX = "bench-"
FAULT_SHARE = 0.05 + 0.01 + 0.005

# Sender tuning (see README): a short lease so a killed replica's rows come back quickly; a
# batch small enough that a claimed batch is sent well within the lease even at a cut rate.
LEASE_SECONDS = 15.0
HEARTBEAT_SECONDS = 1.0
HEARTBEAT_TTL_SECONDS = 4.0
CONCURRENCY = 64


def batch_size(rate: float, headroom: float, replicas: int) -> int:
    """The most one claim may take: about a third of what one replica sends in a lease, so a
    claim always goes out within its lease. Claims are smaller in practice: about 2 s of the
    replica's share (SenderSettings.claim_seconds)."""
    share = rate * (1 - headroom) / replicas
    return int(min(500, max(32, share * LEASE_SECONDS / 3)))


IDLE_POLL_SECONDS = 0.2


def sender_settings(rate: float, headroom: float, batch: int) -> Any:
    from core.store import outbox
    from scheduler.sender import SenderSettings

    return SenderSettings(
        rate_per_second=rate,
        min_headroom=headroom,
        concurrency=CONCURRENCY,
        batch_size=batch,
        lease_seconds=LEASE_SECONDS,
        idle_poll_seconds=IDLE_POLL_SECONDS,
        heartbeat_seconds=HEARTBEAT_SECONDS,
        heartbeat_ttl_seconds=HEARTBEAT_TTL_SECONDS,
        retry=outbox.RetryPolicy(max_attempts=6, base_seconds=1.0, max_seconds=30.0),
    )


# ---------------------------------------------------------------- replica (child process) --


async def _pending(sessions) -> bool:
    """Whether anything is still queued, retrying or being sent (one row is enough to know; a
    count over 100,000 rows every quarter second was itself a load on the database). Asked the
    way the outbox's partial indexes answer it: there is no index on status alone."""
    from core.store import outbox

    async with sessions() as session:
        return await outbox.any_unsettled(session)


async def replica(config: dict[str, Any]) -> None:
    """One replica: an OutboxSender that runs from `go` until nothing is pending."""
    from botframework.connector.auth import PasswordServiceClientCredentialFactory

    from bot.connector import ConnectorTransport
    from core import db
    from core.config.settings import Settings
    from core.store.models import utcnow
    from scheduler.sender import OutboxSender

    engine = db.create_engine(config["db_url"])
    sessions = db.session_factory(engine)
    settings = Settings(_env_file=None)
    transport = ConnectorTransport(
        settings, PasswordServiceClientCredentialFactory("", ""), timeout=10, connect_timeout=5
    )
    await transport.start()
    sender = OutboxSender(
        sessions,
        transport,
        sender_settings(config["rate"], config["headroom"], config["batch_size"]),
        clock=utcnow,
        worker=config["worker"],
    )
    await sender.heartbeat()  # registered before `go`, so every replica counts every other
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    profiler = cProfile.Profile() if config.get("profile") else None
    if profiler:
        profiler.enable()
    cpu0, t0 = time.process_time(), time.monotonic()
    running = asyncio.create_task(sender.run())
    deadline = t0 + config["timeout"]
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        if not await _pending(sessions):
            break
    await sender.stop()
    await running
    if profiler:
        profiler.disable()
        Path(config["profile"]).parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(config["profile"])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "worker": config["worker"],
        "seconds": time.monotonic() - t0,
        "cpu_seconds": time.process_time() - cpu0,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "sent": sender.sent_count,
        "timed_out": time.monotonic() >= deadline,
    }
    await transport.close()
    await engine.dispose()
    print("RESULT " + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------- parent ----


def _find_card_id(node: Any) -> str:
    """The card_id inside a rendered check-in payload."""
    if isinstance(node, dict):
        if isinstance(node.get("card_id"), str):
            return node["card_id"]
        children = list(node.values())
    elif isinstance(node, list):
        children = node
    else:
        return ""
    for child in children:
        found = _find_card_id(child)
        if found:
            return found
    return ""


async def queue_cycle(engine, people: int, method: str) -> tuple[int, int]:
    """Queue one check-in per person; returns (cycle id, queued)."""
    from core.config.settings import Settings
    from core.events import reply_payload
    from core.privacy import secrets as privacy
    from core.store.models import utcnow
    from dialogs.wiring import build_services
    from scheduler import checkins

    keys = privacy.generate()
    settings = Settings(
        _env_file=None,
        pseudonym_key=keys["WELLBEING_PSEUDONYM_KEY"],
        data_keys=keys["WELLBEING_DATA_KEYS"],
    )
    services = build_services(settings, org_config(), engine, clock=utcnow)
    now = utcnow()
    today = date.today()
    if method == "open_cycle":
        report = await checkins.open_cycle(services, today, now, immediate=True)
        return report.cycle_id, report.queued
    # Bulk: the same rows open_cycle writes (recipient + outbox row with its dedupe key and the
    # real rendered card), inserted with executemany instead of two statements per person.
    import json as _json

    from sqlalchemy import insert, select

    from core.store.cycles import CycleRecipient
    from core.store.models import Person
    from core.store.outbox import OutboxMessage

    async with services.sessions() as session:
        cycle = await checkins._get_or_create_cycle(session, services, today, now)
        await session.commit()
        persons = list((await session.exec(select(Person))).scalars().all())
    # One rendered card; each person's copy differs only in its card_id, as open_cycle's would.
    template = _json.dumps(
        reply_payload(checkins._checkin_reply(services, cycle, persons[0], reminder=False)),
        sort_keys=True,
    )
    marker = _json.loads(template)
    sample_card_id = _find_card_id(marker)
    chunk = 5000
    for start in range(0, len(persons), chunk):
        recipients, rows = [], []
        for person in persons[start : start + chunk]:
            recipients.append(
                {
                    "cycle_id": cycle.id,
                    "aad_object_id": person.aad_object_id,
                    "due_at": now,
                    "answered": False,
                    "reminded": False,
                }
            )
            rows.append(
                {
                    "dedupe_key": f"checkin:{today}:{person.aad_object_id}",
                    "purpose": "checkin",
                    "tenant_id": person.tenant_id,
                    "aad_object_id": person.aad_object_id,
                    "payload": template.replace(sample_card_id, uuid.uuid4().hex),
                    "cycle_id": cycle.id,
                    "status": "queued",
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        async with engine.begin() as conn:
            await conn.execute(insert(CycleRecipient.__table__), recipients)
            await conn.execute(insert(OutboxMessage.__table__), rows)
    return cycle.id, len(persons)


async def outbox_figures(engine) -> dict[str, Any]:
    from sqlalchemy import func, select

    from core.store.outbox import OutboxMessage

    async with engine.connect() as conn:
        statuses = dict(
            (
                await conn.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
        )
        reclaimed = (
            await conn.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.reclaimed > 0)
            )
        ).scalar_one()
        attempts = (await conn.execute(select(func.sum(OutboxMessage.attempts)))).scalar_one()
    return {"statuses": statuses, "reclaimed_rows": reclaimed, "attempts_recorded": attempts}


async def _stats(base: str, people: int) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base}/stats", params={"people": people, "prefix": "a:personal-" + PREFIX}) as r,
    ):
        return await r.json()


async def parent(args: argparse.Namespace) -> dict[str, Any]:
    rate = args.rps * args.scale
    tmp = tempfile.TemporaryDirectory(prefix="bench-fanout-")
    database = Database(args.db, args.db_url, Path(tmp.name))
    from core import db

    connector, base = await start_connector(rate, args.faults == "on")
    database.create()
    replicas: list[asyncio.subprocess.Process] = []
    engine = db.create_engine(database.url)
    try:
        t = time.monotonic()
        await db.migrate(engine)
        await insert_people(engine, PREFIX, args.people, base)
        setup_seconds = time.monotonic() - t
        method = args.queue
        if method == "auto":
            method = "open_cycle" if args.people <= 20000 else "bulk"
        t = time.monotonic()
        _cycle_id, queued = await queue_cycle(engine, args.people, method)
        queue_seconds = time.monotonic() - t
        print(
            f"set-up: {args.people} people in {setup_seconds:.1f}s; queued {queued} "
            f"({method}) in {queue_seconds:.1f}s; limit {rate:g}/s; db {args.db}",
            flush=True,
        )
        timeout = args.timeout or (args.people / rate) * 3 + 120
        batch = batch_size(rate, args.headroom, args.replicas)
        for k in range(args.replicas):
            config = {
                "db_url": database.url,
                "rate": rate,
                "worker": f"replica-{k}",
                "timeout": timeout,
                "headroom": args.headroom,
                "batch_size": batch,
                "profile": str(args.profile / f"replica-{k}.prof") if args.profile else None,
            }
            replicas.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--replica-config",
                    json.dumps(config),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    cwd=str(ROOT),
                )
            )
        for p in replicas:
            line = await asyncio.wait_for(p.stdout.readline(), 120)
            if line.strip() != b"READY":
                raise SystemExit(f"a replica failed to start: {line!r}")
        before = await _stats(base, 0)
        cpu_before = system_cpu()
        t0 = time.monotonic()
        for p in replicas:
            p.stdin.write(b"go\n")
            await p.stdin.drain()
        killed: dict[str, Any] = {}

        async def kill_one() -> None:
            await asyncio.sleep(args.kill_one_at)
            victim = replicas[0]
            if victim.returncode is None:
                cpu, rss = cpu_and_peak_rss(victim.pid)
                victim.send_signal(signal.SIGKILL)
                killed.update(at=time.monotonic() - t0, cpu_seconds=cpu, peak_rss_mb=rss)
                print(f"killed replica-0 at {killed['at']:.1f}s", flush=True)

        killer = asyncio.create_task(kill_one()) if args.kill_one_at else None
        results: list[dict[str, Any]] = []

        async def collect(p: asyncio.subprocess.Process) -> None:
            while True:
                line = await p.stdout.readline()
                if not line:
                    return
                if line.startswith(b"RESULT "):
                    results.append(json.loads(line[7:]))

        await asyncio.wait_for(asyncio.gather(*(collect(p) for p in replicas)), timeout + 60)
        seconds = time.monotonic() - t0
        cpu_after = system_cpu()
        if killer:
            killer.cancel()
        after = await _stats(base, args.people)
        figures_db = await outbox_figures(engine)
    finally:
        for p in replicas:
            if p.returncode is None:
                p.kill()
                await p.wait()
        await stop_process(connector)
        await engine.dispose()
        database.drop()
        tmp.cleanup()

    replica_cpu = sum(r["cpu_seconds"] for r in results) + killed.get("cpu_seconds", 0.0)
    attempts = after["attempts"] - before["attempts"]
    delivered = after["delivered_distinct"]
    goal = 0.98 * (1 - FAULT_SHARE) if args.faults == "on" else 0.98
    figures = {
        "bench": "fanout",
        "people": args.people,
        "rps": rate,
        "rps_base": args.rps,
        "scale": args.scale,
        "replicas": args.replicas,
        "db": args.db,
        "faults": args.faults,
        "queue_method": method,
        "kill_one_at": args.kill_one_at,
        "seconds": round(seconds, 2),
        "attempts": attempts,
        "delivered": delivered,
        "goodput": round(delivered / (seconds * rate), 4),
        "goodput_goal": round(goal, 4),
        "over_limit": after["over_limit"] - before["over_limit"],
        "over_limit_pct": round(
            100 * (after["over_limit"] - before["over_limit"]) / max(1, attempts), 3
        ),
        "lost": after["lost"],
        "duplicates": after["duplicates"],
        "unreachable": figures_db["statuses"].get("unreachable", 0),
        "failed": figures_db["statuses"].get("failed", 0),
        "still_pending": sum(
            figures_db["statuses"].get(s, 0) for s in ("queued", "retrying", "sending")
        ),
        "reclaimed_rows": figures_db["reclaimed_rows"],
        "injected_faults": after["injected"],
        "timeline_requests_per_second": after["per_second"],
        "timeline_over_limit_per_second": after["over_per_second"],
        "peak_rss_mb": round(
            max([r["peak_rss_mb"] for r in results] + [killed.get("peak_rss_mb", 0)]), 1
        ),
        "cpu_percent": round(100 * replica_cpu / seconds, 1),
        "cpu_percent_per_replica": [round(100 * r["cpu_seconds"] / seconds, 1) for r in results],
        "connector_cpu_percent": round(
            100 * (after["cpu_seconds"] - before["cpu_seconds"]) / seconds, 1
        ),
        "machine_cpu_percent": machine_cpu_percent(cpu_before, cpu_after),
        "killed": killed or None,
        "replicas_finished": len(results),
        "replica_timed_out": any(r["timed_out"] for r in results),
        "setup_seconds": round(setup_seconds, 1),
        "queue_seconds": round(queue_seconds, 1),
        "sender": {
            "lease_seconds": LEASE_SECONDS,
            "heartbeat_seconds": HEARTBEAT_SECONDS,
            "heartbeat_ttl_seconds": HEARTBEAT_TTL_SECONDS,
            "batch_size": batch_size(rate, args.headroom, args.replicas),
            "concurrency": CONCURRENCY,
            "min_headroom": args.headroom,
        },
        "machine": machine(),
    }
    figures["goals_met"] = (
        figures["goodput"] >= goal
        and figures["over_limit"] <= 0.005 * attempts
        and figures["lost"] == 0
        and (figures["duplicates"] == 0 or bool(killed))
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument("--rps", type=float, default=50.0, help="Teams' per-tenant limit")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--db-url", default=DEFAULT_PG, help="PostgreSQL server (loopback only)")
    parser.add_argument("--faults", choices=["on", "off"], default="off")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply the limit (bot and connector)"
    )
    parser.add_argument(
        "--kill-one-at", type=float, default=0.0, help="SIGKILL replica-0 after S seconds"
    )
    parser.add_argument("--queue", choices=["auto", "open_cycle", "bulk"], default="auto")
    parser.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="give up after S seconds (default: 3x ideal + 120)",
    )
    parser.add_argument(
        "--headroom",
        type=float,
        default=0.01,
        help="SenderSettings.min_headroom: share of the limit the fan-out never uses",
    )
    parser.add_argument("--save", type=Path, help="also write the JSON line to this file")
    parser.add_argument(
        "--profile",
        type=Path,
        help="write each replica's cProfile to DIR/replica-K.prof (slows it: not for figures)",
    )
    parser.add_argument("--replica-config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replica_config:
        asyncio.run(replica(json.loads(args.replica_config)))
        return
    if args.db == "postgres":
        require_loopback_database(args.db_url)
    if args.kill_one_at and args.replicas < 2:
        parser.error("--kill-one-at needs --replicas 2 or more")
    figures = asyncio.run(parent(args))
    report(
        figures,
        (
            "seconds",
            "attempts",
            "delivered",
            "goodput",
            "over_limit",
            "lost",
            "duplicates",
            "unreachable",
            "peak_rss_mb",
            "cpu_percent",
            "connector_cpu_percent",
            "machine_cpu_percent",
        ),
        args.save,
    )


if __name__ == "__main__":
    main()
