"""What a dialog step is given: the person's event and the services it may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import utcnow
from core.orgconfig import OrgConfig
from dialogs.events import Incoming

if TYPE_CHECKING:
    from dialogs.commands import CommandTable


@dataclass
class Services:
    """Long-lived things a turn may use; built once by the app factory."""

    sessions: async_sessionmaker[AsyncSession]
    org: OrgConfig
    commands: CommandTable
    clock: Callable[[], datetime] = utcnow
    wake_sender: Callable[[], None] = lambda: None


@dataclass
class Turn:
    """One incoming event being handled, with the conversation's saved dialog state."""

    event: Incoming
    services: Services
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return self.services.clock()
