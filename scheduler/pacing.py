"""Pacing sends against Teams' rate limits, slowing down when Teams says 429.

Teams documents 50 requests a second per app per tenant, for everything the app sends there;
Microsoft says limits may change, so the rate is configuration.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from core import db
from core.store import sendbudget


class SharedPacer:
    """Paces every request a replica makes to Teams in a tenant on the tenant's one timetable in
    the database (core/store/sendbudget.py), which every replica shares and both paths draw from:
    the outbox's fan-out and the replies in a turn.

    Slots fall at least 1 / rate apart. A slot is used within `slack` seconds of its time or
    given up for another (a busy event loop), so the sends of any one second come from slots in
    1 + slack seconds: at most rate x (1 + slack) = limit of them (10 ms of slack at 49.5 of 50
    a second). Replies too: sending late slots anyway put a fifth of the requests over the
    limit on an overloaded machine.

    Replies come first: the fan-out takes slots only when the next free one is at most one
    interval ahead, one batch at a time per replica (the next just before the last slot of the
    one before falls; one slot a batch on a quick database, up to MAX_BATCH when statements
    are slow), and a reply takes this replica's next fan-out slot not yet used, when there is
    one, instead of booking behind the batch; so a reply waits about one interval, behind
    the replies before it and other replicas' batches; while replies book the timetable
    further ahead, the fan-out waits. Slots are
    asked for `lead` seconds ahead (twice the statement's recent round trip, at most
    MAX_LEAD), so the answer arrives before its slot rather than after, when it is lost.
    """

    MAX_LEAD = 0.05
    MAX_BATCH = 10
    REPLY_WAIT = 2.0
    """Longest a reply waits for its slot: someone is waiting for it, and a reply Teams
    refuses with 429 is retried or handed to the outbox, never lost."""
    STATEMENT_WAIT = 1.0
    """Seconds a take may wait for the database: then DatabaseTimeout, and a reply goes
    without its slot (a silent database must not hold the apology for it)."""

    def __init__(
        self,
        sessions: Callable[[], Any],
        rate: float,
        limit: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.sessions = sessions
        self.rate, self.limit = rate, limit
        self._clock, self._sleep = clock, sleep
        self._fanout = asyncio.Lock()
        self._round_trip = 0.0
        self._taken: dict[str, deque[float]] = {}
        """Fan-out slots taken and not yet used, by tenant."""
        self.statements = 0
        self.given_up = 0
        """Statements run against the timetable, for the benchmarks' cost per send."""

    @property
    def slack(self) -> float:
        return max(0.0, min(1.0, self.limit / self.rate - 1))

    @property
    def lead(self) -> float:
        return min(self.MAX_LEAD, 2 * self._round_trip)

    def batch(self) -> int:
        """Fan-out slots one statement takes: enough for twice its round trip (one on a quick
        database, more on a slow one or a busy event loop, at most MAX_BATCH)."""
        return max(1, min(self.MAX_BATCH, math.ceil(2 * self._round_trip * self.rate)))

    async def acquire(self, tenant_id: str, *, urgent: bool = False) -> None:
        """Wait for a slot of `tenant_id`'s timetable: `urgent` for a reply someone waits for,
        otherwise (the fan-out) behind every reply."""
        deadline = self._clock() + self.REPLY_WAIT
        rebooked = False
        while True:
            if urgent:
                at = self._fanout_slot(tenant_id)
                if at is None:
                    at = (await self._take(tenant_id, None, 1)).at
            else:
                async with self._fanout:
                    taken = self._taken.setdefault(tenant_id, deque())
                    if not taken:
                        count = self.batch()
                        first = (await self._take(tenant_id, 1 / self.rate, count)).at
                        taken.extend(first + k / self.rate for k in range(count))
                    at = taken.popleft()
                    if not taken:
                        # The next batch is taken just before this, its last slot, falls: the
                        # timetable stays free ahead for replies, and the take's round trip
                        # overlaps this wait instead of following it.
                        hold = at - self.lead - self._clock()
                        if hold > 0:
                            await self._sleep(hold)
            wait = at - self._clock()
            if urgent:
                # Someone waits for a reply: it books again at most once when the loop woke
                # too late for its slot, and never waits past the deadline.
                wait = min(wait, deadline - self._clock())
            if wait > 0:
                await self._sleep(wait)
            on_time = self._clock() - at <= self.slack
            if on_time or (urgent and (rebooked or self._clock() >= deadline)):
                return
            rebooked = True
            self.given_up += 1  # a late slot: used by no one

    def _fanout_slot(self, tenant_id: str) -> float | None:
        """This replica's next fan-out slot not yet given to a send, for a reply: the slot is
        already this replica's, so the reply needs no statement and no place behind the rest
        of the batch; the fan-out books another when its slots run out."""
        taken = self._taken.get(tenant_id)
        while taken:
            at = taken.popleft()
            if at >= self._clock() - self.slack:
                return at
            self.given_up += 1  # passed while the fan-out slept: used by no one
        return None

    async def _take(self, tenant_id: str, within: float | None, count: int) -> sendbudget.Slot:
        """Take slots, waiting while the timetable is booked beyond `within`."""
        while True:
            asked = self._clock()
            slot = await db.abandon_after(
                self._statement(tenant_id, asked + self.lead, within, count), self.STATEMENT_WAIT
            )
            self._round_trip = 0.8 * self._round_trip + 0.2 * (self._clock() - asked)
            self.statements += 1 if slot.taken else 2
            if slot.taken:
                return slot
            await self._sleep(max(slot.at - self._clock(), 0.001))

    async def _statement(
        self, tenant_id: str, now: float, within: float | None, count: int
    ) -> sendbudget.Slot:
        async with self.sessions() as session:
            return await sendbudget.take(
                session, tenant_id, now=now, interval=1 / self.rate, within=within, count=count
            )


class AdaptiveRate:
    """Cuts the rate when many recent sends were throttled, and creeps back when they are not.

    A few per-conversation 429s among many successes do not count as the tenant limit; a burst
    of them does. Decisions use a sliding window of recent outcomes, and only once it holds
    `min_samples` of them: one 429 among the first three sends is chance, not a limit.
    """

    def __init__(
        self,
        pacer: SharedPacer,
        *,
        ceiling: float,
        floor: float = 1.0,
        window: int = 50,
        threshold: float = 0.2,
        min_samples: int = 20,
        cut: float = 0.7,
        recover_per_second: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.pacer = pacer
        self.ceiling, self.floor = ceiling, floor
        self.threshold, self.cut, self.recover = threshold, cut, recover_per_second
        self.min_samples = min_samples
        self._recent: deque[bool] = deque(maxlen=window)
        self._clock = clock
        self._last_change = float("-inf")  # the first burst may cut at once

    def record(self, throttled: bool) -> None:
        self._recent.append(throttled)
        now = self._clock()
        judged = len(self._recent) >= self.min_samples
        share = sum(self._recent) / len(self._recent)
        if throttled and judged and share >= self.threshold and now - self._last_change >= 1.0:
            self.pacer.rate = max(self.floor, self.pacer.rate * self.cut)
            self._last_change = now
            self._recent.clear()
        elif not throttled and self.pacer.rate < self.ceiling and now - self._last_change >= 1.0:
            self.pacer.rate = min(self.ceiling, self.pacer.rate * (1 + self.recover))
            self._last_change = now
