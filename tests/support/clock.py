"""A clock tests move by hand: the bot, the scheduler and the sender read it for 'now'."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    def __init__(self, now: datetime = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
