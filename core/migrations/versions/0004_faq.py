"""faq: entries, questions asked, feedback, escalations and the experts channel

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 19:40:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_entry",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("phrasings", sa.JSON(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("last_reviewed", sa.Date(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "faq_experts_channel",
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "faq_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("normalised", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("entry_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("faq_question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_question_asked_at"), ["asked_at"], unique=False)

    op.create_table(
        "faq_escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("closest_entry_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("asker_aad", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("asker_teams_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("asker_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column(
            "reply_conversation_id", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True
        ),
        sa.Column("reply_thread_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("added_entry_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.ForeignKeyConstraint(["question_id"], ["faq_question.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("question_id"),
    )
    with op.batch_alter_table("faq_escalation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_escalation_status"), ["status"], unique=False)

    op.create_table(
        "faq_feedback",
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("voter", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["question_id"], ["faq_question.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("question_id", "voter"),
    )


def downgrade() -> None:
    op.drop_table("faq_feedback")
    with op.batch_alter_table("faq_escalation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_escalation_status"))
    op.drop_table("faq_escalation")
    with op.batch_alter_table("faq_question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_question_asked_at"))
    op.drop_table("faq_question")
    op.drop_table("faq_experts_channel")
    op.drop_table("faq_entry")
