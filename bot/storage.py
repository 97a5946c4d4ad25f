"""botbuilder `Storage` in the bot's own database, so dialog state has one home and survives restarts.

E-tags follow the Storage contract: a write whose e-tag is "*" or absent overwrites; a write with
any other e-tag succeeds only if it matches the stored one; every successful write gets a new one.

Items are stored as the SDK's Cosmos DB and Blob stores store them: flattened by jsonpickle, so
what the SDK's own components keep (a waterfall's DialogState, a prompt's Activity) comes back as
the objects it was. Unpickling can build any class and call any function a document names, so a
document may name only classes of the Bot Framework SDK and `datetime`, checked both when it is
written and when it is read; the bot's own state is plain JSON and is stored as it is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from botbuilder.core import Storage
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from core.store.models import StateRecord


class ETagConflictError(KeyError):
    """Someone else changed this state since it was read; the turn should be retried or abandoned."""


# jsonpickle's tags that only shape data; any other (functions, modules, `repr` to evaluate)
# would let a document run code when read.
_STRUCTURE_TAGS = frozenset(
    {
        "py/object",
        "py/type",
        "py/state",
        "py/reduce",
        "py/tuple",
        "py/set",
        "py/seq",
        "py/id",
        "py/ref",
        "py/newobj",
        "py/newargs",
        "py/newargsex",
        "py/initargs",
        "py/bytes",
        "py/b64",
        "py/b85",
    }
)
_CLASS_TAGS = ("py/object", "py/type")
_ALLOWED_CLASS_PREFIXES = ("botbuilder.", "botframework.", "datetime.")


class UnsafeDocumentError(TypeError):
    """A state document names a class or function it may not (see the module's docstring)."""


def _check_tags(document: Any) -> bool:
    """True when `document` holds jsonpickle tags (all allowed); raise if any is not allowed."""
    tagged = False
    pending = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key.startswith("py/"):
                    if key not in _STRUCTURE_TAGS:
                        raise UnsafeDocumentError(f"state may not hold {key!r}")
                    if key in _CLASS_TAGS and not (
                        isinstance(value, str) and value.startswith(_ALLOWED_CLASS_PREFIXES)
                    ):
                        raise UnsafeDocumentError(f"state may not hold a {key} outside the SDK")
                    tagged = True
                pending.append(value)
        elif isinstance(node, list | tuple):
            pending.extend(node)
    return tagged


def _as_document(item: Any) -> tuple[str, str | None]:
    """The JSON text to store for `item`, and the e-tag it carries (not stored in the text)."""
    etag = item.get("e_tag") if isinstance(item, dict) else getattr(item, "e_tag", None)
    flat = Pickler().flatten(item)
    if not isinstance(flat, dict):
        raise TypeError(f"state items must be objects, not {type(item).__name__}")
    flat.pop("e_tag", None)
    _check_tags(flat)
    return json.dumps(flat, sort_keys=True), etag


def _from_document(document: str, etag: str) -> Any:
    """A stored item as it was written, with its current e-tag (as the SDK's Cosmos store)."""
    data = json.loads(document)
    data["e_tag"] = etag
    return Unpickler(safe=True).restore(data) if _check_tags(data) else data


class DatabaseStorage(Storage):
    """State documents as JSON rows in `bot_state`, guarded by optimistic concurrency."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]):
        self._sessions = sessions
        self._clock = clock

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if keys is None:
            raise ValueError("Keys are required when reading")  # the SDK's words
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
        return {key: _from_document(document, etag) for key, document, etag in rows}

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("Changes are required when writing")  # the SDK's words
        if not changes:
            return
        now = self._clock()
        async with self._sessions() as session:
            for key, item in changes.items():
                document, etag = _as_document(item)
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
                else:
                    item.e_tag = new_etag
            await session.commit()

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._sessions() as session:
            await session.exec(delete(StateRecord).where(StateRecord.key.in_(list(keys))))
            await session.commit()
