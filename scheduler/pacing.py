"""Pacing sends against Teams' rate limits, slowing down when Teams says 429.

Teams documents 50 requests a second per app per tenant; Microsoft says limits may change, so
the rate is configuration. A share of it is left for interactive replies.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable


class TokenBucket:
    """Allows `rate` acquisitions a second on average, with bursts of at most `burst`."""

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 5)
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


class AdaptiveRate:
    """Cuts the rate when many recent sends were throttled, and creeps back when they are not.

    A few per-conversation 429s among many successes do not count as the tenant limit; a burst
    of them does. Decisions use a sliding window of recent outcomes.
    """

    def __init__(
        self,
        bucket: TokenBucket,
        *,
        ceiling: float,
        floor: float = 1.0,
        window: int = 50,
        threshold: float = 0.2,
        cut: float = 0.7,
        recover_per_second: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.bucket = bucket
        self.ceiling, self.floor = ceiling, floor
        self.threshold, self.cut, self.recover = threshold, cut, recover_per_second
        self._recent: deque[bool] = deque(maxlen=window)
        self._clock = clock
        self._last_change = float("-inf")  # the first burst may cut at once

    def record(self, throttled: bool) -> None:
        self._recent.append(throttled)
        now = self._clock()
        share = sum(self._recent) / len(self._recent)
        if throttled and share >= self.threshold and now - self._last_change >= 1.0:
            self.bucket.rate = max(self.floor, self.bucket.rate * self.cut)
            self._last_change = now
            self._recent.clear()
        elif not throttled and self.bucket.rate < self.ceiling and now - self._last_change >= 1.0:
            self.bucket.rate = min(self.ceiling, self.bucket.rate * (1 + self.recover))
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


def fanout_share(
    total_rate: float,
    interactive_rate: float,
    senders: int,
    *,
    min_reserve: float = 0.01,
    max_reserve: float = 0.2,
) -> float:
    """One sender's share of the per-tenant rate, after keeping room for interactive replies.

    The reserve follows the interactive traffic actually seen (with a margin), between a small
    floor and the configured headroom, so a quiet bot lends its headroom to the fan-out.
    """
    reserve = min(max_reserve, max(min_reserve, 1.5 * interactive_rate / total_rate))
    senders = max(1, senders)
    # Each sender may add one request of burst to any second; leave room for the others' bursts.
    return max(0.5, (total_rate * (1 - reserve) - (senders - 1)) / senders)
