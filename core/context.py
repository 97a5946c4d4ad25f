"""What a dialog step is given: the person's event and the services it may use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.config.orgconfig import OrgConfig
from core.db import Sessions
from core.events import Incoming
from core.privacy.secrets import Secrets

if TYPE_CHECKING:
    from dialogs.commands import CommandTable
    from dialogs.engine import DialogEngine


@dataclass
class Services:
    """Long-lived things a turn may use; built once by the app factory."""

    sessions: Sessions
    org: OrgConfig
    commands: CommandTable
    secrets: Secrets
    dialogs: DialogEngine
    clock: Callable[[], datetime]
    """The one clock of the app: the wall clock in production, a test's own clock in tests."""
    wake_sender: Callable[[], None] = lambda: None
    card_banner: str = ""
    """A line on top of every card (a demo or a test system), from the settings."""
    public_url: str = "http://127.0.0.1:3978"
    """Where people's browsers reach the bot's web server (export links)."""
    list_members: Callable[[str, str, str], Awaitable[list[dict[str, Any]]]] | None = None
    """Reads a team's roster from Teams (service URL, team id); None where no transport runs."""


@dataclass
class Turn:
    """One incoming event being handled, with the conversation's saved dialog state."""

    event: Incoming
    services: Services
    state: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    """What one stage found that a later stage of the same turn reuses (what the message
    meant); never saved."""

    @property
    def now(self) -> datetime:
        return self.services.clock()
