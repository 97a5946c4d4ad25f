"""Signed links to a person's private data (their export, the wellbeing lead's report).

A link is a bearer secret, so it is short-lived, works once, and dies with its person's data:
- the token is encrypted and signed (`Secrets.link_token`) and says whom it is for;
- it is recorded when issued, by a hash only, so the database never holds a working link;
- opening it (GET) shows a page and never uses it up: in-app browsers and link scanners such
  as Safe Links fetch links before people do;
- the page's button (POST) uses it, once: a second use, on any replica, is refused;
- erasing a person's data deletes their links, and retention deletes old ones.
The web server logs the route, never the token (`bot/app.py`).
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, update
from sqlmodel import Field, SQLModel, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from core.privacy.secrets import Secrets
from core.store.models import UTCDateTime


class IssuedLink(SQLModel, table=True):
    """A link the bot handed out: which person, what for, and whether it has been used."""

    __tablename__ = "issued_link"

    digest: str = Field(primary_key=True, max_length=64, description="SHA-256 of the token")
    purpose: str = Field(max_length=16)
    aad_object_id: str = Field(index=True, max_length=64)
    issued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class LinkState(enum.Enum):
    READY = "ready"
    """Valid, not used yet."""
    USED = "used"
    """Valid, but used already: 410."""
    INVALID = "invalid"
    """Forged, mangled, expired, for something else, or its person's data was erased: 404."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def issue(
    session: AsyncSession,
    secrets: Secrets,
    purpose: str,
    aad_object_id: str,
    data: dict[str, Any],
    now: datetime,
) -> str:
    """A new token for `aad_object_id`, recorded (in the caller's transaction) as unused."""
    token = secrets.link_token(purpose, {**data, "aad": aad_object_id}, now)
    session.add(
        IssuedLink(
            digest=_digest(token), purpose=purpose, aad_object_id=aad_object_id, issued_at=now
        )
    )
    return token


async def check(
    session: AsyncSession,
    secrets: Secrets,
    purpose: str,
    token: str,
    ttl: timedelta,
    now: datetime,
) -> tuple[LinkState, dict[str, Any] | None]:
    """What a link is now, and what its token holds when it is valid; uses nothing."""
    data = secrets.read_link_token(purpose, token, ttl, now)
    if data is None or not isinstance(data.get("aad"), str):
        return LinkState.INVALID, None
    row = await session.get(IssuedLink, _digest(token))
    if row is None or row.purpose != purpose or row.aad_object_id != data["aad"]:
        return LinkState.INVALID, None
    return (LinkState.USED if row.used_at else LinkState.READY), data


async def use(
    session: AsyncSession,
    secrets: Secrets,
    purpose: str,
    token: str,
    ttl: timedelta,
    now: datetime,
) -> tuple[LinkState, dict[str, Any] | None]:
    """Use a link (in the caller's transaction): READY and its data the first time, USED after,
    even when two replicas are asked at once."""
    state, data = await check(session, secrets, purpose, token, ttl, now)
    if state is not LinkState.READY:
        return state, None
    claimed = await session.exec(
        update(IssuedLink)
        .where(IssuedLink.digest == _digest(token), IssuedLink.used_at.is_(None))
        .values(used_at=now)
        .returning(IssuedLink.digest)
    )
    if claimed.first() is None:
        return LinkState.USED, None
    return LinkState.READY, data


async def forget_person(session: AsyncSession, aad_object_id: str) -> int:
    """Erasure: every link of theirs stops working."""
    result = await session.exec(delete(IssuedLink).where(IssuedLink.aad_object_id == aad_object_id))
    return result.rowcount or 0


async def forget_before(session: AsyncSession, cutoff: datetime) -> int:
    """Retention: links issued before `cutoff` (long expired) are deleted."""
    result = await session.exec(delete(IssuedLink).where(IssuedLink.issued_at < cutoff))
    return result.rowcount or 0
