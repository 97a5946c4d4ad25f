"""botbuilder `Storage` in the bot's own database, so dialog state has one home and survives restarts.

E-tags follow the Storage contract: a write whose e-tag is "*" or absent overwrites; a write with
any other e-tag succeeds only if it matches the stored one; every successful write gets a new one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botbuilder.core import Storage, StoreItem
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.models import StateRecord


class ETagConflictError(KeyError):
    """Someone else changed this state since it was read; the turn should be retried or abandoned."""


def _as_document(item: Any) -> tuple[dict[str, Any], str | None]:
    if isinstance(item, StoreItem):
        data = {k: v for k, v in vars(item).items() if k != "e_tag"}
        etag = getattr(item, "e_tag", None)
    elif isinstance(item, dict):
        data = {k: v for k, v in item.items() if k != "e_tag"}
        etag = item.get("e_tag")
    else:
        raise TypeError(f"state items must be dicts or StoreItems, not {type(item).__name__}")
    return data, etag


class DatabaseStorage(Storage):
    """State documents as JSON rows in `bot_state`, guarded by optimistic concurrency."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]):
        self._sessions = sessions
        self._clock = clock

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        async with self._sessions() as session:
            return await self.read_in(session, keys)

    @staticmethod
    async def read_in(session: AsyncSession, keys: list[str]) -> dict[str, Any]:
        """`read`, in the caller's transaction (a turn reads its state with its other rows)."""
        if not keys:
            return {}
        rows = await session.exec(
            select(StateRecord.key, StateRecord.document, StateRecord.etag).where(
                StateRecord.key.in_(list(keys))
            )
        )
        found = {}
        for key, document, etag in rows:
            item = json.loads(document)
            item["e_tag"] = etag
            found[key] = item
        return found

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        now = self._clock()
        async with self._sessions() as session:
            for key, item in changes.items():
                data, etag = _as_document(item)
                document = json.dumps(data, sort_keys=True)
                new_etag = uuid.uuid4().hex
                if etag == "":
                    raise ValueError(f"state {key!r} has an empty e-tag")
                conditional = etag not in (None, "*")
                statement = update(StateRecord).where(StateRecord.key == key)
                if conditional:
                    statement = statement.where(StateRecord.etag == etag)
                result = await session.exec(
                    statement.values(document=document, etag=new_etag, updated_at=now)
                )
                if result.rowcount == 0:
                    if conditional and await session.get(StateRecord, key) is not None:
                        await session.rollback()
                        raise ETagConflictError(f"state {key!r} was changed by another turn")
                    try:
                        async with session.begin_nested():
                            await session.exec(
                                insert(StateRecord).values(
                                    key=key, document=document, etag=new_etag, updated_at=now
                                )
                            )
                    except IntegrityError as error:
                        await session.rollback()
                        raise ETagConflictError(
                            f"state {key!r} was created by another turn"
                        ) from error
                if isinstance(item, dict):
                    item["e_tag"] = new_etag
                elif isinstance(item, StoreItem):
                    item.e_tag = new_etag
            await session.commit()

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._sessions() as session:
            await session.exec(delete(StateRecord).where(StateRecord.key.in_(list(keys))))
            await session.commit()
