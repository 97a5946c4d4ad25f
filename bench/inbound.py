"""Inbound benchmark: check-in submissions (Action.Execute invokes) at a fixed rate, open loop,
at the real app's /api/messages while the same app fans a cycle out; then the same load at a
bare botbuilder echo bot, for ratios.

    .venv/bin/python bench/inbound.py --rate 50 --seconds 30 --people 2000 --fanout 5000

Prints the figures and ends with ONE line of JSON holding all of them. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    DEFAULT_PG,
    ROOT,
    Database,
    answerer_id,
    checkin_submission,
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

P99_LIMIT_MS = 250.0
REQUEST_TIMEOUT = 10.0
NOTES = (
    "short staffed again, third week running",
    "fine thanks, bit tired after nights",
    "my back is sore from moving patients",
    "worried about money since the rent went up",
    "good week actually, the new rota helps",
    "lost my nan on sunday, funeral is next week",
    "struggling to switch off when i get home",
)
"""Free-text notes for --note-every: everyday answers, none of them a crisis (so every
answer gets the same thanks card), of the lengths people write."""


PSEUDONYM_KEY, DATA_KEYS = "WELLBEING_PSEUDONYM_KEY", "WELLBEING_DATA_KEYS"
ANSWERER_CHATS = "a:personal-" + answerer_id(0)[:-12]
"""The start of every answering person's chat id (bench/_common.py's answerer_id)."""

# ------------------------------------------------------------------ servers (child process) --


async def serve(kind: str, db_url: str) -> None:
    """The real app (local mode) or a bare echo bot, on a free loopback port."""
    from aiohttp import web

    if kind == "app":
        from bot.app import create_app
        from core.config.settings import Settings

        settings = Settings(
            _env_file=None,
            database_url=db_url,
            scheduler_enabled=False,
            pseudonym_key=os.environ[PSEUDONYM_KEY],
            data_keys=os.environ[DATA_KEYS],
        )
        app = create_app(settings, org=org_config())
    else:
        app = echo_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(f"PORT {site._server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


def echo_app():
    """A minimal CloudAdapter + ActivityHandler bot: answers an Action.Execute with a message
    sent back through the connector and an invoke response, like the real app does."""
    from types import SimpleNamespace

    from aiohttp import web
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
    from botbuilder.schema import Activity, AdaptiveCardInvokeResponse

    class Echo(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity(f"echo: {turn_context.activity.text}")

        async def on_adaptive_card_invoke(self, turn_context: TurnContext, invoke_value):
            await turn_context.send_activity("echo")
            return AdaptiveCardInvokeResponse(
                status_code=200,
                type="application/vnd.microsoft.card.adaptive",
                value={
                    "type": "AdaptiveCard",
                    "version": "1.5",
                    "body": [{"type": "TextBlock", "text": "echo"}],
                },
            )

    config = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(config))
    bot = Echo()

    async def messages(request: web.Request) -> web.Response:
        activity = Activity().deserialize(await request.json())
        response = await adapter.process_activity(
            request.headers.get("Authorization", ""), activity, bot.on_turn
        )
        if response:
            return web.json_response(response.body, status=response.status)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    return app


async def start_server(
    kind: str, db_url: str, keys: dict[str, str]
) -> tuple[asyncio.subprocess.Process, str]:
    """The server in a child process, with the keys the load uses to sign its cards."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve",
        kind,
        "--db-url",
        db_url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=str(ROOT),
        env={**os.environ, **keys},
    )
    line = await asyncio.wait_for(process.stdout.readline(), 120)
    if not line.startswith(b"PORT "):
        raise SystemExit(f"the {kind} server did not start")
    return process, f"http://127.0.0.1:{int(line.split()[1])}"


# ------------------------------------------------------------------------ load (parent) --


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def phase(
    http: aiohttp.ClientSession,
    url: str,
    connector_url: str,
    rate: float,
    seconds: float,
    people: int,
    cycle_id: int,
    week: int,
    expect: str | None,
    counter: list[int],
    keys: Any,
    note_every: int = 0,
    submit_every: int = 0,
) -> dict[str, Any]:
    """Open loop: request n is sent at start + n/rate whatever came back before; latency is
    measured from that scheduled time, so a stalled server cannot hide its queue. Every
    `submit_every`-th answer comes by Action.Submit, acknowledged by a card update the bot
    sends to Teams (its acknowledgement time is read from the connector afterwards)."""

    latencies: list[float] = []
    answers: list[dict[str, Any]] = []
    errors: dict[str, int] = {}
    ok_cards = 0
    total = int(rate * seconds)
    start = time.monotonic() + 0.05

    async def one(n: int, scheduled: float) -> None:
        nonlocal ok_cards
        i = counter[0] % people
        counter[0] += 1
        note = NOTES[n % len(NOTES)] if note_every and n % note_every == 0 else None
        submit = bool(submit_every) and n % submit_every == 0
        body = checkin_submission(
            keys,
            i,
            connector_url,
            cycle_id,
            week,
            1 + n % 5,
            note,
            submit=submit,
            card_message_id=f"card-{counter[0]}",
        )
        try:
            async with http.post(url, json=body) as response:
                text = await response.text()
                if response.status != 200:
                    errors[str(response.status)] = errors.get(str(response.status), 0) + 1
                elif expect and not submit and expect not in text:
                    errors["unexpected body"] = errors.get("unexpected body", 0) + 1
                else:
                    ok_cards += 1
        except (aiohttp.ClientError, TimeoutError) as error:
            errors[type(error).__name__] = errors.get(type(error).__name__, 0) + 1
        responded = time.monotonic()
        latencies.append((responded - scheduled) * 1000)
        answers.append(
            {
                "submit": submit,
                "conversation": body["conversation"]["id"],
                "scheduled": scheduled,
                "responded": responded,
            }
        )

    tasks = []
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    return {
        "rate": rate,
        "requests": total,
        "ok": ok_cards,
        "throughput": round(ok_cards / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "answers": answers,
    }


async def load(
    url: str,
    connector_url: str,
    args: argparse.Namespace,
    cycle_id: int,
    week: int,
    expect: str | None,
    keys: Any,
) -> dict[str, Any]:
    """The main phase at --rate, then steps up until p99 passes the limit or errors appear."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    counter = [0]
    async with aiohttp.ClientSession(
        timeout=timeout, connector=aiohttp.TCPConnector(limit=0)
    ) as http:

        async def run(rate: float, seconds: float, submit_every: int = 0) -> dict[str, Any]:
            return await phase(
                http,
                url,
                connector_url,
                rate,
                seconds,
                args.people,
                cycle_id,
                week,
                expect,
                counter,
                keys,
                args.note_every,
                submit_every,
            )

        warm = await run(10, 3)  # first turns compile queries and templates: not measured
        cpu0 = system_cpu()
        # Only the main phase sends replies: the steps measure how many turns a replica takes.
        main = await run(args.rate, args.seconds, args.submit_every)
        main["machine_cpu_percent"] = machine_cpu_percent(cpu0, system_cpu())
        steps, best = (
            [],
            (args.rate if main["p99_ms"] < P99_LIMIT_MS and not main["errors"] else 0.0),
        )
        for rate in args.steps:
            cpu0 = system_cpu()
            step = await run(rate, args.step_seconds)
            step["machine_cpu_percent"] = machine_cpu_percent(cpu0, system_cpu())
            steps.append(step)
            if step["p99_ms"] >= P99_LIMIT_MS or step["errors"]:
                break
            best = max(best, rate)
    return {
        "warmup": warm,
        "main": main,
        "steps": steps,
        "max_rate_p99_under_250ms": best,
        "sent": counter[0],
    }


async def count_answers(engine) -> int:
    from sqlalchemy import func, select

    from core.store.wellbeing import CheckinAnswer

    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(CheckinAnswer))).scalar_one()


async def parent(args: argparse.Namespace) -> dict[str, Any]:
    from fanout import queue_cycle

    from core import db
    from core.privacy import secrets as privacy

    tmp = tempfile.TemporaryDirectory(prefix="bench-inbound-")
    key_values = privacy.generate()
    keys = privacy.load_secrets(key_values[PSEUDONYM_KEY], key_values[DATA_KEYS], local_mode=False)
    database = Database(args.db, args.db_url, Path(tmp.name))
    connector, connector_url = await start_connector(args.connector_rps, False, args.limit_mode)
    database.create()
    engine = db.create_engine(database.url)
    servers: list[asyncio.subprocess.Process] = []
    try:
        await db.migrate(engine)
        cost = await budget_cost(engine)
        await insert_people(engine, "fan-", args.fanout, connector_url)
        cycle_id, queued = await queue_cycle(engine, args.fanout, "bulk")
        week = date.today().isocalendar().week
        print(f"set-up: fan-out of {queued} queued; load from {args.people} people", flush=True)

        app, app_url = await start_server("app", database.url, key_values)
        servers.append(app)
        app_result = await load(
            app_url + "/api/messages",
            connector_url,
            args,
            cycle_id,
            week,
            "Thank you for checking in",
            keys,
        )
        replies = await reply_figures(connector_url, app_result["main"], args.reply_wait)
        fanout_sent_during = await _connector(connector_url)
        await asyncio.sleep(1.0)
        app_result["peak_rss_mb"] = round(cpu_and_peak_rss(app.pid)[1], 1)
        await stop_process(app)
        stored = await count_answers(engine)
        ok_total = (
            app_result["warmup"]["ok"]
            + app_result["main"]["ok"]
            + sum(s["ok"] for s in app_result["steps"])
        )

        if args.no_echo:
            echo_result = {
                "skipped": True,
                "warmup": {},
                "main": {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0},
                "steps": [],
                "max_rate_p99_under_250ms": 0.0,
            }
        else:
            echo, echo_url = await start_server("echo", database.url, key_values)
            servers.append(echo)
            echo_result = await load(
                echo_url + "/api/messages", connector_url, args, cycle_id, week, None, keys
            )
            await stop_process(echo)
    finally:
        for p in servers:
            if p.returncode is None:
                p.kill()
                await p.wait()
        await stop_process(connector)
        await engine.dispose()
        database.drop()
        tmp.cleanup()

    def ratio(key: str) -> float:
        echo_value = echo_result["main"][key]
        return round(app_result["main"][key] / echo_value, 2) if echo_value else 0.0

    figures = {
        "bench": "inbound",
        "db": args.db,
        "rate": args.rate,
        "seconds": args.seconds,
        "people": args.people,
        "note_every": args.note_every,
        "fanout_people": args.fanout,
        "fanout_requests_at_connector_during_app_load": fanout_sent_during,
        "throughput": app_result["main"]["throughput"],
        "p50_ms": app_result["main"]["p50_ms"],
        "p95_ms": app_result["main"]["p95_ms"],
        "p99_ms": app_result["main"]["p99_ms"],
        "errors": app_result["main"]["errors"] + sum(s["errors"] for s in app_result["steps"]),
        "errors_main_phase": app_result["main"]["errors"],
        "max_rate_p99_under_250ms": app_result["max_rate_p99_under_250ms"],
        "submit_every": args.submit_every,
        "limit_mode": args.limit_mode,
        **replies,
        "sends_over_limit": fanout_sent_during["over_limit_if_enforced"],
        "sends_over_limit_share": round(
            fanout_sent_during["over_limit_if_enforced"] / max(1, fanout_sent_during["requests"]),
            5,
        ),
        "budget_cost": cost,
        "answers_acknowledged": ok_total,
        "answers_stored": stored,
        "answers_lost": max(0, ok_total - stored),
        "machine_cpu_percent": app_result["main"]["machine_cpu_percent"],
        "app_peak_rss_mb": app_result["peak_rss_mb"],
        "app": app_result,
        "echo": echo_result,
        "echo_p50_ms": echo_result["main"]["p50_ms"],
        "echo_p99_ms": echo_result["main"]["p99_ms"],
        "echo_max_rate_p99_under_250ms": echo_result["max_rate_p99_under_250ms"],
        "ratio_p50": ratio("p50_ms"),
        "ratio_p95": ratio("p95_ms"),
        "ratio_p99": ratio("p99_ms"),
        "ratio_max_rate": round(
            app_result["max_rate_p99_under_250ms"] / echo_result["max_rate_p99_under_250ms"], 2
        )
        if echo_result["max_rate_p99_under_250ms"]
        else 0.0,
        "machine": machine(),
    }
    figures["goals_met"] = (
        figures["ack_p99_ms"] < 100
        and figures["errors_main_phase"] == 0
        and figures["answers_lost"] == 0
        and figures["replies_lost"] == 0
        and figures["sends_over_limit_share"] <= 0.005
    )
    for result in (app_result, echo_result):
        for part in (result["warmup"], result["main"], *result["steps"]):
            part.pop("answers", None)
    return figures


async def budget_cost(engine, takes: int = 300) -> dict[str, float]:
    """What one take from the shared timetable costs (core/store/sendbudget.py), on this database
    with nothing else running: the wall time of the statement and this process's CPU."""
    from core import db
    from core.store import sendbudget

    sessions = db.session_factory(engine)
    walls = []
    cpu = time.process_time()
    for _ in range(takes):
        began = time.perf_counter()
        async with sessions() as session:
            await sendbudget.take(session, "bench-cost", now=time.time(), interval=1e-6)
        walls.append((time.perf_counter() - began) * 1000)
    return {
        "take_ms_p50": round(percentile(walls, 50), 2),
        "take_ms_p99": round(percentile(walls, 99), 2),
        "take_cpu_ms": round((time.process_time() - cpu) * 1000 / takes, 3),
    }


def _match_acknowledgements(
    submits: list[dict[str, Any]], accepted: dict[str, list[float]]
) -> list[float | None]:
    """For each Action.Submit answer, when the connector took its acknowledgement: the first
    request to that person's chat at or after the answer, not already matched to another."""
    found: list[float | None] = [None] * len(submits)
    by_chat: dict[str, list[int]] = {}
    for index, answer in enumerate(submits):
        by_chat.setdefault(answer["conversation"], []).append(index)
    for chat, indexes in by_chat.items():
        times = sorted(accepted.get(chat, []))
        position = 0
        for index in sorted(indexes, key=lambda k: submits[k]["scheduled"]):
            while position < len(times) and times[position] < submits[index]["scheduled"]:
                position += 1
            if position < len(times):
                found[index] = times[position]
                position += 1
    return found


async def reply_figures(
    connector_url: str, main: dict[str, Any], wait_seconds: float
) -> dict[str, Any]:
    """Replies of the main phase: lost (never taken by Teams, after waiting `wait_seconds` for
    the outbox), late (taken only after the turn had answered: through the outbox), and the
    answer-to-acknowledgement times of every answer (the invoke's response for Action.Execute,
    the card update reaching Teams for Action.Submit)."""
    answers = main["answers"]
    submits = [a for a in answers if a["submit"]]
    deadline = time.monotonic() + wait_seconds
    while True:
        async with (
            aiohttp.ClientSession() as http,
            http.get(connector_url + "/accepted", params={"prefix": ANSWERER_CHATS}) as response,
        ):
            accepted = await response.json()
        acknowledged = _match_acknowledgements(submits, accepted)
        if all(at is not None for at in acknowledged) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    submit_ms = [
        (at - a["scheduled"]) * 1000
        for a, at in zip(submits, acknowledged, strict=True)
        if at is not None
    ]
    execute_ms = [(a["responded"] - a["scheduled"]) * 1000 for a in answers if not a["submit"]]
    every = submit_ms + execute_ms
    return {
        "replies_expected": len(submits),
        "replies_lost": sum(at is None for at in acknowledged),
        "replies_late": sum(
            at is not None and at > a["responded"]
            for a, at in zip(submits, acknowledged, strict=True)
        ),
        "ack_p50_ms": round(percentile(every, 50), 1),
        "ack_p95_ms": round(percentile(every, 95), 1),
        "ack_p99_ms": round(percentile(every, 99), 1),
        "submit_ack_p99_ms": round(percentile(submit_ms, 99), 1),
        "execute_ack_p99_ms": round(percentile(execute_ms, 99), 1),
    }


async def _connector(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(url + "/stats") as response:
        stats = await response.json()
    return {
        "fanout_delivered": stats["delivered_total"],
        "replies": stats["replies"],
        "requests": stats["attempts"],
        "over_limit_if_enforced": stats["over_limit"],
        "connector_cpu_seconds": round(stats["cpu_seconds"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=50.0, help="submissions a second (open loop)")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the main phase")
    parser.add_argument("--people", type=int, default=2000, help="distinct people submitting")
    parser.add_argument(
        "--fanout", type=int, default=5000, help="people in the cycle sent meanwhile"
    )
    parser.add_argument(
        "--note-every",
        type=int,
        default=0,
        help="every n-th answer carries a free-text note, read by the crisis check (0: none)",
    )
    parser.add_argument("--steps", type=float, nargs="*", default=[100, 150, 200, 300, 400])
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument(
        "--submit-every",
        type=int,
        default=2,
        help="every n-th answer of the main phase by Action.Submit, acknowledged by a card "
        "update sent to Teams (0: all by Action.Execute, which send nothing)",
    )
    parser.add_argument(
        "--reply-wait",
        type=float,
        default=60.0,
        help="seconds to wait after the load for replies handed to the outbox",
    )
    parser.add_argument(
        "--connector-rps", type=float, default=50.0, help="Teams' limit, per tenant"
    )
    parser.add_argument(
        "--limit-mode",
        choices=["enforce", "count"],
        default="enforce",
        help="enforce: 429 with Retry-After beyond the limit, as Teams; count: only counted",
    )
    parser.add_argument("--no-echo", action="store_true", help="skip the bare echo bot")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--db-url", default=DEFAULT_PG, help="PostgreSQL server (loopback only)")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--serve", choices=["app", "echo"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.db_url))
        return
    if args.db == "postgres":
        require_loopback_database(args.db_url)
    figures = asyncio.run(parent(args))
    report(
        figures,
        (
            "throughput",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "errors",
            "max_rate_p99_under_250ms",
            "answers_stored",
            "answers_lost",
            "replies_expected",
            "replies_lost",
            "replies_late",
            "sends_over_limit",
            "sends_over_limit_share",
            "ack_p50_ms",
            "ack_p95_ms",
            "ack_p99_ms",
            "submit_ack_p99_ms",
            "echo_p50_ms",
            "echo_p99_ms",
            "ratio_p99",
            "ratio_max_rate",
            "machine_cpu_percent",
        ),
        args.save,
    )


if __name__ == "__main__":
    main()
