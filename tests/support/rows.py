"""What a test stored: a row count for every table the bot creates but `lease`, which each
replica's sender writes by itself as a heartbeat, and `send_budget`, which any send writes
(one row a tenant, nothing about anyone), whenever the sender gets to it."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import SQLModel

import core.store.tables  # noqa: F401  (every table in SQLModel.metadata)
from core.db import Sessions


async def row_counts(sessions: Sessions) -> dict[str, int]:
    """Every table's row count, in one query."""
    names = [
        table.name
        for table in SQLModel.metadata.sorted_tables
        if table.name not in ("lease", "send_budget")
    ]
    query = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{name}")' for name in names)
    async with sessions() as session:
        counts = (await session.exec(text(query))).one()
    return dict(zip(names, counts, strict=True))
