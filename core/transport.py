"""The small interface between delivery (here) and the Bot Connector (implemented in bot/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Destination:
    """Where one message goes, resolved from stored routing data.

    `conversation_id` None means a one-to-one chat must be created first with `user_id`.
    """

    service_url: str
    tenant_id: str
    bot_id: str
    conversation_id: str | None = None
    thread_id: str | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class SendOutcome:
    """What the Connector answered: an HTTP status (0 for no answer), and what it told us."""

    status: int
    retry_after: float | None = None
    activity_id: str | None = None
    conversation_id: str | None = None
    error: str | None = None
    code: str | None = None
    """The Connector's error code (`ConversationBlockedByUser`, `BotDisabledByAdmin`, …): what
    tells one 403 from another."""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Budget(Protocol):
    """The tenant's sending timetable (scheduler/pacing.py's SharedPacer): one slot a request."""

    async def acquire(self, tenant_id: str, *, urgent: bool = False) -> None: ...


class Transport(Protocol):
    """Sends one queued reply payload; never raises for HTTP or network failures, it reports them."""

    async def send(self, destination: Destination, payload: dict[str, Any]) -> SendOutcome: ...
