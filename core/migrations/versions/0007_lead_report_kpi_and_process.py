"""the wellbeing lead's report: HR figures and per-cycle delivery counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 22:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("group_name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("sickness_absence_rate", sa.Float(), nullable=True),
        sa.Column("days_lost", sa.Float(), nullable=True),
        sa.Column("turnover", sa.Float(), nullable=True),
        sa.Column("leavers", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("month", "group_name", name="uq_kpi_figure_month_group"),
    )
    with op.batch_alter_table("kpi_figure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_figure_month"), ["month"], unique=False)

    op.create_table(
        "report_cycle_process",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("scheduled_for", sa.Date(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("not_reached", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Integer(), nullable=False),
        sa.Column("stopped", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cycle_id"),
    )
    with op.batch_alter_table("report_cycle_process", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_cycle_process_scheduled_for"), ["scheduled_for"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_cycle_process", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_cycle_process_scheduled_for"))
    op.drop_table("report_cycle_process")
    with op.batch_alter_table("kpi_figure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_figure_month"))
    op.drop_table("kpi_figure")
