"""Pacing sends against Teams' rate limits, slowing down when Teams says 429.

Teams documents 50 requests a second per app per tenant; Microsoft says limits may change, so
the rate is configuration. A share of it is left for interactive replies.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable


class SlotPacer:
    """Paces every sender of a tenant on one shared timetable, so that together they never send
    more than `limit` requests in any one second, however many replicas there are.

    Slot k falls at k / rate seconds of wall-clock time, and sender `rank` of `senders` takes the
    slots with k % senders == rank: the senders together make one evenly spaced stream at `rate`
    (their clocks agree to milliseconds: one host, or NTP). A sender late for a slot may still use
    it for `slack` seconds, so a busy event loop does not lose slots; the slack is the most that
    keeps any second under the limit. Sends in a second then come from slots in 1 + slack seconds,
    at most rate x (1 + slack) = limit of them (10 ms of slack at 49.5 of 50 a second).
    """

    def __init__(
        self,
        rate: float,
        limit: float,
        *,
        rank: int = 0,
        senders: int = 1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.rate, self.limit = rate, limit
        self.rank, self.senders = rank, senders
        self._clock, self._sleep = clock, sleep
        self._last: float | None = None
        self._lock = asyncio.Lock()

    @property
    def slack(self) -> float:
        return max(0.0, min(1.0, self.limit / self.rate - 1))

    def take_part(self, rank: int, senders: int) -> None:
        """This sender's place among the live senders, from their heartbeats."""
        self.senders = max(1, senders)
        self.rank = rank % self.senders

    def claim_slot(self, now: float) -> float:
        """Take this sender's next slot (not before `now - slack`, never one already taken)."""
        # Slot numbers are ~1e11 (epoch seconds x rate): float rounding is ~1e-5 of a slot there,
        # so a slot time maps back to its number only with a tolerance.
        first = math.ceil((now - self.slack) * self.rate - 1e-3)
        if self._last is not None:
            first = max(first, math.floor(self._last * self.rate + 1e-3) + 1)
        slot = first + (self.rank - first) % self.senders
        self._last = slot / self.rate
        return self._last

    async def acquire(self) -> None:
        """Wait for a slot; one overslept by more than the slack is given up for the next."""
        async with self._lock:
            while True:
                at = self.claim_slot(self._clock())
                if at > self._clock():
                    await self._sleep(at - self._clock())
                if self._clock() - at <= self.slack:
                    return


class AdaptiveRate:
    """Cuts the rate when many recent sends were throttled, and creeps back when they are not.

    A few per-conversation 429s among many successes do not count as the tenant limit; a burst
    of them does. Decisions use a sliding window of recent outcomes, and only once it holds
    `min_samples` of them: one 429 among the first three sends is chance, not a limit.
    """

    def __init__(
        self,
        pacer: SlotPacer,
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


class RateMeter:
    """Events per second, smoothed: how fast interactive replies are flowing right now."""

    def __init__(self, half_life: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.half_life = half_life
        self._clock = clock
        self._rate = 0.0
        self._updated = clock()

    def _decay(self) -> None:
        now = self._clock()
        elapsed = now - self._updated
        if elapsed > 0:
            self._rate *= 0.5 ** (elapsed / self.half_life)
            self._updated = now

    def mark(self, count: int = 1) -> None:
        self._decay()
        self._rate += count * (0.693 / self.half_life)

    def rate(self) -> float:
        self._decay()
        return self._rate


def fanout_rate(
    total_rate: float,
    interactive_rate: float,
    senders: int,
    *,
    min_reserve: float = 0.01,
    max_reserve: float = 0.2,
) -> float:
    """The fan-out's rate, all senders together, after keeping room for interactive replies.

    The reserve follows the interactive traffic actually seen (with a margin), between a small
    floor and the configured headroom, so a quiet bot lends its headroom to the fan-out. Replies
    are spread over the replicas by the load balancer, so one replica's rate stands for each.
    """
    seen = 1.5 * interactive_rate * max(1, senders) / total_rate
    return total_rate * (1 - min(max_reserve, max(min_reserve, seen)))
