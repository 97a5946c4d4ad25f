"""signposting: coordinator requests and signposting counts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 19:40:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coordinator_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requester_aad_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("contact_method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("contact_time", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("requester_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("contact_detail", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("routed_to", sa.Text(), nullable=False),
        sa.Column("handled_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backup_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("form_token"),
    )
    with op.batch_alter_table("coordinator_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coordinator_request_requester_aad_id"),
            ["requester_aad_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_coordinator_request_status_created", ["status", "created_at"], unique=False
        )

    op.create_table(
        "signposting_count",
        sa.Column("week", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("event", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("need_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("service_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", "event", "need_id", "service_id"),
    )


def downgrade() -> None:
    op.drop_table("signposting_count")
    with op.batch_alter_table("coordinator_request", schema=None) as batch_op:
        batch_op.drop_index("ix_coordinator_request_status_created")
        batch_op.drop_index(batch_op.f("ix_coordinator_request_requester_aad_id"))
    op.drop_table("coordinator_request")
