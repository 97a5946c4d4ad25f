"""report_cycle_process.blocked, and outbox rows found by person

A closed cycle's snapshot keeps how many people Teams said had blocked the bot. The sender looks
up a person's last few messages when Teams refuses one with a 403 that is not final, to mark
them unreachable only after several in a row; an index on outbox.aad_object_id keeps that (and
erasure's delete by person) from reading the whole outbox.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report_cycle_process", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocked", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_aad_object_id"), ["aad_object_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_aad_object_id"))
    with op.batch_alter_table("report_cycle_process", schema=None) as batch_op:
        batch_op.drop_column("blocked")
