"""check-in cycles and answers

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-23 19:13:19.200004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lease",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lease_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "checkin_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("card_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("mood", sa.Integer(), nullable=False),
        sa.Column("affecting", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("pulse", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pseudonym", "card_id", name="uq_checkin_answer_card"),
    )
    with op.batch_alter_table("checkin_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkin_answer_answered_at"), ["answered_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_checkin_answer_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_checkin_answer_pseudonym"), ["pseudonym"], unique=False
        )

    op.create_table(
        "cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminders_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note_week", sa.Integer(), nullable=True),
        sa.Column("completed_notice_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stall_notice_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheduled_for"),
    )
    op.create_table(
        "cycle_recipient",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("aad_object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("cycle_id", "aad_object_id"),
    )
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("enrolled", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    op.drop_table("lease")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("enrolled")

    op.drop_table("cycle_recipient")
    op.drop_table("cycle")
    with op.batch_alter_table("checkin_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_answer_pseudonym"))
        batch_op.drop_index(batch_op.f("ix_checkin_answer_cycle_id"))
        batch_op.drop_index(batch_op.f("ix_checkin_answer_answered_at"))

    op.drop_table("checkin_answer")
