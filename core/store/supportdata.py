"""Signposting tables: confidential coordinator requests, and counters of what was offered.

The two are kept apart on purpose: a request says who asked (the coordinator has to reach them),
so only signposting/referrals.py reads it; the counters say how often, never who.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from core.store.models import UTCDateTime

OPEN, CONTACTED, CLOSED, WITHDRAWN = "open", "contacted", "closed", "withdrawn"
ACTIVE_STATES = (OPEN, CONTACTED)


class CoordinatorRequest(SQLModel, table=True):
    """A person's request that the staff support coordinator gets in touch.

    `note`, `contact_detail` and `requester_name` are what the person chose to share: they are
    never logged, and are kept in columns of their own so they can be encrypted at rest.
    """

    __tablename__ = "coordinator_request"
    __table_args__ = (Index("ix_coordinator_request_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    form_token: str = Field(
        max_length=64, unique=True, description="one per form shown: a double submit is one request"
    )
    tenant_id: str = Field(max_length=64)
    requester_aad_id: str = Field(index=True, max_length=64)
    status: str = Field(
        default=OPEN, max_length=16, description="open, contacted, closed, withdrawn"
    )
    contact_method: str = Field(max_length=16, description="teams, phone or email")
    contact_time: str = Field(max_length=32, description="when they would like to be contacted")
    requester_name: str | None = Field(default=None, max_length=200)
    contact_detail: str | None = Field(default=None, max_length=320)
    note: str | None = Field(default=None, sa_column=Column(Text))
    routed_to: str = Field(
        default="[]",
        sa_column=Column(Text, nullable=False),
        description="JSON list of the coordinators' AAD ids it was sent to",
    )
    handled_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    contacted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    backup_reminded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SignpostingCount(SQLModel, table=True):
    """How often something was offered or done in an ISO week, per service and need; never who."""

    __tablename__ = "signposting_count"

    week: str = Field(primary_key=True, max_length=8, description="ISO week, e.g. 2026-W48")
    event: str = Field(primary_key=True, max_length=32)
    need_id: str = Field(default="", primary_key=True, max_length=64)
    service_id: str = Field(default="", primary_key=True, max_length=64)
    count: int = Field(default=0)
