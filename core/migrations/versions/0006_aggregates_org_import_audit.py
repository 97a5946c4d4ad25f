"""frozen aggregates, org import and the audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:43:33.213081
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_subject"), ["subject"], unique=False)

    op.create_table(
        "frozen_cycle",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", sa.Date(), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id"),
    )
    with op.batch_alter_table("frozen_cycle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_frozen_cycle_scheduled_for"), ["scheduled_for"], unique=False
        )

    op.create_table(
        "frozen_respondent",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("group_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("group_key", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("member", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id", "group_kind", "group_key", "member"),
    )
    with op.batch_alter_table("frozen_respondent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frozen_respondent_member"), ["member"], unique=False)

    op.create_table(
        "org_team",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("directorate", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("enrolled", sa.Boolean(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "frozen_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", sa.Date(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("directorate", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("mood", sa.Text(), nullable=True),
        sa.Column("affecting", sa.Text(), nullable=True),
        sa.Column("pulse", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["cycle_id"], ["frozen_cycle.cycle_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cycle_id", "kind", "key", name="uq_frozen_group"),
    )
    with op.batch_alter_table("frozen_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frozen_group_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_frozen_group_scheduled_for"), ["scheduled_for"], unique=False
        )

    op.create_table(
        "org_team_manager",
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("manager", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["org_team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "manager"),
    )


def downgrade() -> None:
    op.drop_table("org_team_manager")
    with op.batch_alter_table("frozen_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frozen_group_scheduled_for"))
        batch_op.drop_index(batch_op.f("ix_frozen_group_cycle_id"))

    op.drop_table("frozen_group")
    op.drop_table("org_team")
    with op.batch_alter_table("frozen_respondent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frozen_respondent_member"))

    op.drop_table("frozen_respondent")
    with op.batch_alter_table("frozen_cycle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frozen_cycle_scheduled_for"))

    op.drop_table("frozen_cycle")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_subject"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))

    op.drop_table("audit_log")
