"""Tables. This module holds identity and routing data and conversation state; wellbeing data
and aggregates live in tables of their own, so the classes of the data inventory in
docs/privacy.md stay apart."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp(**kwargs) -> Field:
    """A time the writer sets from the clock it was given: no wall-clock default, so a row
    written without one fails loudly instead of being stamped with another clock."""
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


class Person(SQLModel, table=True):
    """Someone the bot can reach: identity and routing only, never wellbeing data."""

    aad_object_id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(index=True, max_length=64)
    teams_user_id: str | None = Field(default=None, max_length=256)
    upn: str | None = Field(default=None, index=True, max_length=320)
    time_zone: str | None = Field(default=None, max_length=64)
    personal_conversation_id: str | None = Field(default=None, max_length=512)
    personal_installed: bool = Field(default=False)
    unreachable_since: datetime | None = Field(
        default=None,
        sa_column=Column(UTCDateTime()),
        description="Teams answered 403/404: not messaged again until they reinstall",
    )
    updated_at: datetime = _timestamp(nullable=False)


class Conversation(SQLModel, table=True):
    """A stored conversation reference: without one nobody can be messaged proactively."""

    id: str = Field(primary_key=True, max_length=512)
    kind: str = Field(max_length=16, description="personal, channel or groupChat")
    tenant_id: str = Field(index=True, max_length=64)
    service_url: str = Field(max_length=512)
    bot_id: str = Field(max_length=256)
    aad_object_id: str | None = Field(default=None, index=True, max_length=64)
    team_id: str | None = Field(default=None, index=True, max_length=512)
    reference: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = _timestamp(nullable=False)


class Team(SQLModel, table=True):
    """A team the bot is installed in; the AAD group id is how config names it."""

    id: str = Field(primary_key=True, max_length=512, description="Teams thread id of the team")
    aad_group_id: str | None = Field(default=None, index=True, max_length=64)
    name: str | None = Field(default=None, max_length=256)
    tenant_id: str = Field(max_length=64)
    enrolled: bool = Field(default=False, description="enrolled by an admin in Teams")
    updated_at: datetime = _timestamp(nullable=False)


class TeamMember(SQLModel, table=True):
    """Membership of a team the bot is in, from Teams' events and rosters."""

    team_id: str = Field(
        primary_key=True, max_length=512, foreign_key="team.id", ondelete="CASCADE"
    )
    aad_object_id: str = Field(primary_key=True, max_length=64)


class StateRecord(SQLModel, table=True):
    """One document of botbuilder conversation or user state, guarded by an e-tag."""

    __tablename__ = "bot_state"

    key: str = Field(primary_key=True, max_length=1024)
    document: str = Field(sa_column=Column(Text, nullable=False))
    etag: str = Field(max_length=64)
    updated_at: datetime = _timestamp(nullable=False, index=True)


class Participation(SQLModel, table=True):
    """A person's own choice about check-ins: active, paused until a date, or stopped."""

    aad_object_id: str = Field(primary_key=True, max_length=64)
    status: str = Field(default="active", max_length=16, description="active, paused or stopped")
    paused_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    updated_at: datetime = _timestamp(nullable=False)
