"""A clock tests move by hand: the bot, the scheduler and the sender read it for 'now'.

The wall clock is kept years away from this clock during tests (see `tests/conftest.py`), so code
that reads the wall clock where it was given a clock fails today, not on some later date.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

TEST_EPOCH = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
"""A Wednesday morning: the default 'now' of every test clock."""

WALL_CLOCK_SHIFTS = {
    "wall-3y": timedelta(days=-3 * 365 - 1),
    "wall+3y": timedelta(days=3 * 365 + 1),
}
"""Where the real wall clock is put during a test, relative to TEST_EPOCH."""


class Clock:
    def __init__(self, now: datetime = TEST_EPOCH) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


_STARTED = time.monotonic()


class RunningClock:
    """A clock at `start` when the tests began that runs at real speed: for senders working in
    real time (leases, retries) that must still stamp rows in the tests' own epoch. Every
    instance with the same start agrees, as replicas' clocks do."""

    def __init__(self, start: datetime = TEST_EPOCH) -> None:
        self._start = start

    def __call__(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - _STARTED)
