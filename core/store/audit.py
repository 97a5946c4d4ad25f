"""The audit log: who exported or erased data, who opened a confidential request, and when.

Accountability without content: an entry names the person who acted, what kind of thing they did
and, where it differs, whose data it was. Never what the data said.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, delete, or_
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.store.models import UTCDateTime

EXPORT_LINK = "export_link"
EXPORT = "export"
ERASE = "erase"
COORDINATOR_ACCESS = "coordinator_access"
ORG_IMPORT = "org_import"
SECRETS_ROTATE = "secrets_rotate"
REPORT_LINK = "report_link"
REPORT = "report"
KPI_IMPORT = "kpi_import"
ACTIONS = frozenset(
    {
        EXPORT_LINK,
        EXPORT,
        ERASE,
        COORDINATOR_ACCESS,
        ORG_IMPORT,
        SECRETS_ROTATE,
        REPORT_LINK,
        REPORT,
        KPI_IMPORT,
    }
)


class AuditEntry(SQLModel, table=True):
    """One audited action: who, what, when (and whose data), never content."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str = Field(
        max_length=64, index=True, description="AAD id of who acted, or 'cli' for an operator"
    )
    action: str = Field(max_length=32)
    subject: str | None = Field(
        default=None,
        max_length=64,
        index=True,
        description="whose data, when not the actor's own (an AAD id or a request id)",
    )


def record(
    session: AsyncSession, *, actor: str, action: str, at: datetime, subject: str | None = None
) -> None:
    """Add an entry in the caller's transaction, so it exists exactly when the action happened."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(AuditEntry(at=at, actor=actor[:64], action=action, subject=subject))


async def entries_about(session: AsyncSession, aad_object_id: str) -> list[AuditEntry]:
    """Entries where the person acted or whose data it was (for their own export)."""
    rows = await session.exec(
        select(AuditEntry)
        .where(or_(AuditEntry.actor == aad_object_id, AuditEntry.subject == aad_object_id))
        .order_by(AuditEntry.at)
    )
    return list(rows.all())


async def forget_before(session: AsyncSession, cutoff: datetime) -> int:
    """Retention: entries older than the audit period go."""
    result = await session.exec(delete(AuditEntry).where(AuditEntry.at < cutoff))
    return result.rowcount or 0
