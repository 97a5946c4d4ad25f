"""Builds the Services that every entry point shares (the web app, the CLI, benchmarks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from core import db
from core.context import Services
from core.orgconfig import OrgConfig
from core.privacy import load_secrets
from core.settings import Settings
from dialogs.router import default_commands, default_dialogs


def build_services(
    settings: Settings,
    org: OrgConfig,
    engine: AsyncEngine,
    *,
    clock: Callable[[], datetime],
    wake_sender: Callable[[], None] = lambda: None,
    list_members: Callable[[str, str], Awaitable[list[dict[str, Any]]]] | None = None,
) -> Services:
    return Services(
        sessions=db.session_factory(engine),
        org=org,
        commands=default_commands(),
        secrets=load_secrets(
            settings.pseudonym_key, settings.data_keys, local_mode=settings.local_mode
        ),
        dialogs=default_dialogs(org),
        clock=clock,
        card_banner=settings.card_banner,
        wake_sender=wake_sender,
        list_members=list_members,
    )
