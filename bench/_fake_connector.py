"""A fake Bot Connector in a process of its own for the benchmarks: a per-tenant rate limit that
counts every request (rejected ones too) and deterministic faults on single conversations.

Run by bench/fanout.py and bench/inbound.py; prints `PORT <n>` once it listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import resource
import sys
import time
from collections import Counter, defaultdict, deque

from aiohttp import web

# Fault classes by a hash of the conversation id: shares of all conversations.
FAULT_429, FAULT_503, FAULT_403 = 0.05, 0.01, 0.005
FAULT_RETRY_AFTER = 2.0
LIMIT_RETRY_AFTER = 1.0


def fault_kind(conversation_id: str) -> int | None:
    """Which fault a conversation gets (None for none): the same answer in every process."""
    digest = hashlib.sha256(conversation_id.encode()).digest()
    x = int.from_bytes(digest[:8], "big") / 2**64
    if x < FAULT_429:
        return 429
    if x < FAULT_429 + FAULT_503:
        return 503
    if x < FAULT_429 + FAULT_503 + FAULT_403:
        return 403
    return None


class Connector:
    """State of the fake service: the sliding one-second window and what arrived where."""

    def __init__(self, rps: float, enforce: bool, faults: bool):
        self.rps, self.enforce, self.faults = rps, enforce, faults
        self.window: deque[float] = deque()
        self.attempts = 0
        self.over_limit = 0
        self.accepted = 0
        self.replies = 0
        self.injected: Counter[int] = Counter()
        self.delivered: Counter[str] = Counter()
        self.faulted: set[str] = set()
        self.first: float | None = None
        self.last_ok: float | None = None
        self.ids = itertools.count(1)
        self.per_second: Counter[int] = Counter()
        self.over_per_second: Counter[int] = Counter()
        self.accepted_at: defaultdict[str, list[float]] = defaultdict(list)
        """When each conversation's requests were taken (monotonic, shared by the processes
        of one machine): what tells when a reply reached Teams, in the turn or later."""

    def over(self) -> bool:
        """Count this request in the window; True when the window was already full."""
        now = time.monotonic()
        self.attempts += 1
        if self.first is None:
            self.first = now
        if self.rps <= 0:
            return False
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        full = len(self.window) >= self.rps
        self.window.append(now)
        second = int(now - self.first)
        self.per_second[second] += 1
        if full:
            self.over_limit += 1
            self.over_per_second[second] += 1
        return full and self.enforce

    def limited(self) -> web.Response:
        return web.json_response(
            {"error": {"code": "TooManyRequests", "message": "rate limit"}},
            status=429,
            headers={"Retry-After": str(LIMIT_RETRY_AFTER)},
        )

    async def send(self, request: web.Request) -> web.Response:
        """Proactive send to a conversation: the fan-out's requests."""
        conversation_id = request.match_info["conversation_id"]
        await request.read()
        if self.over():
            return self.limited()
        if self.faults:
            kind = fault_kind(conversation_id)
            if kind == 403 or (kind is not None and conversation_id not in self.faulted):
                self.faulted.add(conversation_id)
                self.injected[kind] += 1
                headers = {"Retry-After": str(FAULT_RETRY_AFTER)} if kind == 429 else {}
                # A permanent 403 names its reason, as Teams does (a person who blocked the bot).
                code = "ConversationBlockedByUser" if kind == 403 else "Injected"
                return web.json_response(
                    {"error": {"code": code, "message": str(kind)}},
                    status=kind,
                    headers=headers,
                )
        self.accepted += 1
        self.delivered[conversation_id] += 1
        self.last_ok = time.monotonic()
        self.accepted_at[conversation_id].append(self.last_ok)
        return web.json_response({"id": f"activity-{next(self.ids)}"})

    async def reply(self, request: web.Request) -> web.Response:
        """A reply or card update within a turn (interactive traffic): counted against the same
        limit as everything else, never faulted."""
        await request.read()
        if self.over():
            return self.limited()
        self.accepted += 1
        self.replies += 1
        self.accepted_at[request.match_info["conversation_id"]].append(time.monotonic())
        return web.json_response({"id": f"activity-{next(self.ids)}"})

    async def accepted_times(self, request: web.Request) -> web.Response:
        """When the requests to conversations whose id starts with `prefix` were taken."""
        prefix = request.query.get("prefix", "")
        return web.json_response(
            {cid: times for cid, times in self.accepted_at.items() if cid.startswith(prefix)}
        )

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.over():
            return self.limited()
        member = (body.get("members") or [{}])[0].get("id", "unknown")
        return web.json_response({"id": f"a:personal-{member}"})

    async def stats(self, request: web.Request) -> web.Response:
        """Counts, and per-person outcomes for ids `<prefix><i:06d>` when `people` is given."""
        people = int(request.query.get("people", "0"))
        prefix = request.query.get("prefix", "")
        lost = unreachable = deliverable = 0
        for i in range(people):
            cid = f"{prefix}{i:06d}"
            if self.faults and fault_kind(cid) == 403:
                unreachable += 1
                continue
            deliverable += 1
            if self.delivered[cid] == 0:
                lost += 1
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return web.json_response(
            {
                "attempts": self.attempts,
                "over_limit": self.over_limit,
                "accepted": self.accepted,
                "replies": self.replies,
                "delivered_distinct": sum(1 for c in self.delivered.values() if c),
                "delivered_total": sum(self.delivered.values()),
                "duplicates": sum(c - 1 for c in self.delivered.values() if c > 1),
                "injected": {str(k): v for k, v in self.injected.items()},
                "deliverable": deliverable,
                "lost": lost,
                "unreachable_people": unreachable,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "peak_rss_mb": usage.ru_maxrss / 1024,
                "now": time.monotonic(),
                "per_second": [
                    self.per_second[i] for i in range(max(self.per_second, default=-1) + 1)
                ],
                "over_per_second": [
                    self.over_per_second[i] for i in range(max(self.per_second, default=-1) + 1)
                ],
                "first": self.first,
                "last_ok": self.last_ok,
            }
        )

    def app(self) -> web.Application:
        app = web.Application()
        base = "/v3/conversations"
        app.router.add_post(base, self.create)
        app.router.add_post(base + "/{conversation_id}/activities", self.send)
        app.router.add_post(base + "/{conversation_id}/activities/{activity_id}", self.reply)
        app.router.add_put(base + "/{conversation_id}/activities/{activity_id}", self.reply)
        app.router.add_get("/stats", self.stats)
        app.router.add_get("/accepted", self.accepted_times)
        return app


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rps", type=float, default=50.0, help="limit per second; 0 = none")
    parser.add_argument("--limit-mode", choices=["enforce", "count"], default="enforce")
    parser.add_argument("--faults", choices=["on", "off"], default="off")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    connector = Connector(args.rps, args.limit_mode == "enforce", args.faults == "on")
    runner = web.AppRunner(connector.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port, backlog=1024)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)
    # Lives until its parent closes stdin (or kills it): never outlives a benchmark.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
