"""Process settings from the environment (and an optional .env), named as Azure Bot deployments name them."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///wellbeing.db"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class Settings(BaseSettings):
    """Everything the process reads from its environment; the organisation itself lives in YAML."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    microsoft_app_id: str = Field(
        "",
        validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID"),
        description="The Azure Bot registration's app id. Empty means local mode (anonymous auth).",
    )
    microsoft_app_password: str = Field(
        "",
        validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD"),
        description="Client secret of the bot registration.",
    )
    microsoft_app_tenant_id: str = Field(
        "",
        validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID"),
        description="Tenant of a SingleTenant bot registration.",
    )
    microsoft_app_type: str = Field(
        "MultiTenant",
        validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE"),
        description="MultiTenant, SingleTenant or UserAssignedMSI.",
    )
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL"),
        description="SQLAlchemy or plain postgresql:// URL. Default: SQLite file in the working directory.",
    )
    database_timeout: float = Field(
        5.0,
        gt=0,
        validation_alias=AliasChoices("WELLBEING_DATABASE_TIMEOUT"),
        description="Seconds to open a database connection (PostgreSQL) or to wait for another "
        "writer's lock (SQLite's busy timeout) before giving up.",
    )
    database_statement_timeout: float = Field(
        30.0,
        gt=0,
        validation_alias=AliasChoices("WELLBEING_DATABASE_STATEMENT_TIMEOUT"),
        description="Seconds PostgreSQL lets one statement run (its statement_timeout); "
        "migrations have none.",
    )
    turn_timeout: float = Field(
        10.0,
        gt=0,
        lt=15,
        validation_alias=AliasChoices("WELLBEING_TURN_TIMEOUT"),
        description="Seconds a message or card press may wait for the database before the bot "
        "apologises instead; under Teams' 15 s.",
    )
    teams_rate_limit: float = Field(
        50.0,
        gt=0,
        validation_alias=AliasChoices("WELLBEING_TEAMS_RATE_LIMIT"),
        description="Requests a second Teams takes from the app in one tenant, for everything "
        "it sends (messages, replies, card updates); every replica shares it.",
    )
    org_config: Path | None = Field(
        None,
        validation_alias=AliasChoices("WELLBEING_ORG_CONFIG"),
        description="Path to the organisation YAML. Default: the bundled example organisation.",
    )
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("WELLBEING_HOST"))
    port: int = Field(3978, validation_alias=AliasChoices("WELLBEING_PORT", "PORT"))
    allow_remote_in_local_mode: bool = Field(
        False,
        validation_alias=AliasChoices("WELLBEING_ALLOW_REMOTE_LOCAL_MODE"),
        description="Let a bot with no app id listen on a non-loopback address (anyone could post to it).",
    )
    log_level: str = Field("INFO", validation_alias=AliasChoices("WELLBEING_LOG_LEVEL"))
    openid_metadata_url: str = Field(
        "",
        validation_alias=AliasChoices("WELLBEING_OPENID_METADATA_URL"),
        description="Override of the Bot Framework OpenID metadata URL (tests and sovereign clouds).",
    )
    token_issuer: str = Field(
        "https://api.botframework.com",
        validation_alias=AliasChoices("WELLBEING_TOKEN_ISSUER"),
        description="Issuer expected on channel tokens when the metadata URL is overridden.",
    )
    openid_fetch_timeout: float = Field(
        10.0,
        validation_alias=AliasChoices("WELLBEING_OPENID_TIMEOUT"),
        description="Seconds allowed for fetching the signing keys of Bot Framework tokens.",
    )
    pseudonym_key: str = Field(
        "",
        validation_alias=AliasChoices("WELLBEING_PSEUDONYM_KEY"),
        description="Hex key (32+ bytes) for pseudonymous answer ids. Required with an app id.",
    )
    data_keys: str = Field(
        "",
        validation_alias=AliasChoices("WELLBEING_DATA_KEYS"),
        description="Comma-separated Fernet keys for free text at rest; the first encrypts.",
    )
    scheduler_enabled: bool = Field(
        True,
        validation_alias=AliasChoices("WELLBEING_SCHEDULER"),
        description="Run scheduled work (check-in cycles, reminders) in this process.",
    )
    faq_warm_start: bool = Field(
        True,
        validation_alias=AliasChoices("WELLBEING_FAQ_WARM_START"),
        description="Build the HR FAQ's index as the bot starts, so the first question after a "
        "deploy does not wait for every entry to be encoded.",
    )
    tick_seconds: float = Field(
        15.0,
        validation_alias=AliasChoices("WELLBEING_TICK_SECONDS"),
        description="How often the scheduler looks for due work.",
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        validation_alias=AliasChoices("WELLBEING_MAX_BODY_BYTES"),
        description="Largest request body accepted on /api/messages (413 above it).",
    )
    card_banner: str = Field(
        "",
        validation_alias=AliasChoices("WELLBEING_CARD_BANNER"),
        description="A line shown on top of every card, e.g. 'Test system: not for real use' "
        "(the demo sets one).",
        max_length=120,
    )
    public_url: str = Field(
        "",
        validation_alias=AliasChoices("WELLBEING_PUBLIC_URL"),
        description="Where Teams reaches the bot, e.g. https://bot.example.nhs.uk (the Azure Bot's "
        "messaging endpoint is this plus /api/messages). Checked by `doctor`, listed in the app package.",
    )
    teams_app_id: str = Field(
        "",
        validation_alias=AliasChoices("WELLBEING_TEAMS_APP_ID"),
        description="The Teams app's own id (a GUID) in the app package. Default: a stable GUID "
        "derived from MicrosoftAppId (or the organisation's name in local mode).",
    )
    supports_files: bool = Field(
        False,
        validation_alias=AliasChoices("WELLBEING_SUPPORTS_FILES"),
        description="Declare in the app package that the bot sends and receives files.",
    )
    website_url: str = Field(
        "",
        validation_alias=AliasChoices("WELLBEING_WEBSITE_URL"),
        description="An https page about the bot for staff (the app package's website and terms of use).",
    )
    privacy_url: str = Field(
        "",
        validation_alias=AliasChoices("WELLBEING_PRIVACY_URL"),
        description="An https page with the privacy notice for the bot (the app package's privacy link).",
    )

    @field_validator("teams_app_id")
    @classmethod
    def _guid_or_empty(cls, value: str) -> str:
        value = value.strip()
        if value and not GUID.match(value):
            raise ValueError("must be a GUID such as 6f1c2b9e-3d4a-4c8b-9e1f-2a3b4c5d6e7f")
        return value.lower()

    @field_validator("public_url", "website_url", "privacy_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("must be a web address starting with https://")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @property
    def local_mode(self) -> bool:
        """No app id: anonymous Bot Framework auth, for the embedded default and local clients."""
        return not self.microsoft_app_id

    def link_base(self) -> str:
        """Where people's browsers reach the bot's pages (export and report links): the public
        URL, or in local mode the address the bot serves on."""
        if self.public_url:
            return self.public_url
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        return f"http://{host}:{self.port}"

    def serve_refusal(self) -> str | None:
        """Why the bot must not start serving Teams with these settings, or None."""
        if not self.local_mode and not self.public_url:
            return (
                "WELLBEING_PUBLIC_URL is not set: export and report links would point nowhere. "
                "Set it to the https address Teams reaches the bot at, e.g. "
                "WELLBEING_PUBLIC_URL=https://bot.example.nhs.uk"
            )
        return None

    def listen_refusal(self, host: str) -> str | None:
        """Why the bot must not listen on `host`, or None when it may."""
        if self.local_mode and host not in LOOPBACK_HOSTS and not self.allow_remote_in_local_mode:
            return (
                f"Refusing to listen on {host}: with no MicrosoftAppId the bot accepts unauthenticated "
                "requests. Set MicrosoftAppId (and MicrosoftAppPassword), or set "
                "WELLBEING_ALLOW_REMOTE_LOCAL_MODE=true if you really mean it."
            )
        return None
