"""outbox: one partial index per claim query instead of (status, next_attempt_at)

The claim of due work and the reclaim of expired leases each get an index whose predicate is
exactly their WHERE, so each reads only the rows it takes and stops at its LIMIT; a sent row
leaves both. The old index got a new entry on every update of every row.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 01:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PENDING_WHERE = "status IN ('queued', 'retrying')"
LEASED_WHERE = "status = 'sending'"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index(
            "ix_outbox_pending",
            ["next_attempt_at", "id"],
            unique=False,
            postgresql_where=sa.text(PENDING_WHERE),
            sqlite_where=sa.text(PENDING_WHERE),
        )
        batch_op.create_index(
            "ix_outbox_leased",
            ["lease_until"],
            unique=False,
            postgresql_where=sa.text(LEASED_WHERE),
            sqlite_where=sa.text(LEASED_WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_leased")
        batch_op.drop_index("ix_outbox_pending")
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
