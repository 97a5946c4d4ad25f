"""identity, routing, participation and conversation state

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:54:05.739783
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bot_state",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("bot_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bot_state_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "conversation",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("service_url", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("bot_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("aad_object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_conversation_aad_object_id"), ["aad_object_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_conversation_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversation_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "participation",
        sa.Column("aad_object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("aad_object_id"),
    )
    op.create_table(
        "person",
        sa.Column("aad_object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("teams_user_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("upn", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("time_zone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "personal_conversation_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True
        ),
        sa.Column("personal_installed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("aad_object_id"),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_upn"), ["upn"], unique=False)

    op.create_table(
        "team",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("aad_group_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_aad_group_id"), ["aad_group_id"], unique=False)

    op.create_table(
        "teammember",
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("aad_object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("team_id", "aad_object_id"),
    )


def downgrade() -> None:
    op.drop_table("teammember")
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_aad_group_id"))

    op.drop_table("team")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_upn"))
        batch_op.drop_index(batch_op.f("ix_person_tenant_id"))

    op.drop_table("person")
    op.drop_table("participation")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_conversation_team_id"))
        batch_op.drop_index(batch_op.f("ix_conversation_aad_object_id"))

    op.drop_table("conversation")
    with op.batch_alter_table("bot_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_state_updated_at"))

    op.drop_table("bot_state")
