"""Pacing sends against Teams' rate limits, slowing down when Teams says 429.

Teams documents 50 requests a second per app per tenant, for everything the app sends there;
Microsoft says limits may change, so the rate is configuration.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from core import sendbudget


class SharedPacer:
    """Paces every request a replica makes to Teams in a tenant on the tenant's one timetable in
    the database (core/sendbudget.py), which every replica shares and both paths draw from:
    the outbox's fan-out and the replies in a turn.

    Slots fall at least 1 / rate apart. A slot is used within `slack` seconds of its time or
    given up (a busy event loop), so the sends of any one second come from slots in 1 + slack
    seconds: at most rate x (1 + slack) = limit of them (10 ms of slack at 49.5 of 50 a second).
    Replies come first: the fan-out takes only a slot at most one interval ahead, one at a time
    per replica, so a reply waits behind at most one fan-out slot per replica and the replies
    before it; while replies book the timetable further ahead, the fan-out waits.
    """

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
        self.statements = 0
        """Statements run against the timetable, for the benchmarks' cost per send."""

    @property
    def slack(self) -> float:
        return max(0.0, min(1.0, self.limit / self.rate - 1))

    async def acquire(self, tenant_id: str, *, urgent: bool = False) -> None:
        """Wait for a slot of `tenant_id`'s timetable: `urgent` for a reply someone waits for,
        otherwise (the fan-out) behind every reply."""
        if urgent:
            await self._acquire(tenant_id, None)
            return
        async with self._fanout:
            await self._acquire(tenant_id, 1 / self.rate)

    async def _acquire(self, tenant_id: str, within: float | None) -> None:
        while True:
            async with self.sessions() as session:
                slot = await sendbudget.take(
                    session, tenant_id, now=self._clock(), interval=1 / self.rate, within=within
                )
            self.statements += 1 if slot.taken else 2
            wait = slot.at - self._clock()
            if not slot.taken:
                wait = max(wait, 0.001)  # never ask again without a pause
            if wait > 0:
                await self._sleep(wait)
            if slot.taken and self._clock() - slot.at <= self.slack:
                return


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
