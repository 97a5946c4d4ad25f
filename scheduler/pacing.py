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
        threshold: float = 0.1,
        cut: float = 0.7,
        recover_per_second: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.bucket = bucket
        self.ceiling, self.floor = ceiling, floor
        self.threshold, self.cut, self.recover = threshold, cut, recover_per_second
        self._recent: deque[bool] = deque(maxlen=window)
        self._clock = clock
        self._last_change = clock()

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
