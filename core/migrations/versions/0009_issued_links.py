"""issued_link: signed links (exports, reports) recorded by hash, so each works once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 18:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issued_link",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("aad_object_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("issued_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issued_link_aad_object_id"), ["aad_object_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_issued_link_issued_at"), ["issued_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("issued_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_link_issued_at"))
        batch_op.drop_index(batch_op.f("ix_issued_link_aad_object_id"))
    op.drop_table("issued_link")
