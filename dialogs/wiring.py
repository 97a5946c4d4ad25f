"""Builds the Services that every entry point shares (the web app, the CLI, benchmarks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from core import db
from core.config.orgconfig import OrgConfig
from core.config.settings import Settings
from core.context import Services
from core.privacy.secrets import Secrets, load_secrets
from dialogs.router import default_commands, default_dialogs


def secrets_for(settings: Settings) -> Secrets:
    """The keys that protect wellbeing data, from the settings (a local file in local mode)."""
    return load_secrets(settings.pseudonym_key, settings.data_keys, local_mode=settings.local_mode)


def build_services(
    settings: Settings,
    org: OrgConfig,
    engine: AsyncEngine,
    *,
    clock: Callable[[], datetime],
    secrets: Secrets | None = None,
    wake_sender: Callable[[], None] = lambda: None,
    list_members: Callable[[str, str, str], Awaitable[list[dict[str, Any]]]] | None = None,
) -> Services:
    """Everything a turn or a job may use, built once; `secrets` when the caller holds them
    already (the app shares them with its sender)."""
    return Services(
        sessions=db.session_factory(engine),
        org=org,
        commands=default_commands(),
        secrets=secrets or secrets_for(settings),
        dialogs=default_dialogs(org),
        clock=clock,
        card_banner=settings.card_banner,
        public_url=settings.link_base(),
        wake_sender=wake_sender,
        list_members=list_members,
    )
