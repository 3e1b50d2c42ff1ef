"""Uptake summary (per-person deltas, day/month/year buckets per cell) and board meetings.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 13:00:00+00:00

The summary starts empty: a database that already holds staff needs `iqt uptake rebuild`
once after this upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _cell_and_measures() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("organisation_ods_code", sa.String(length=10), nullable=False),
        sa.Column("staff_group_code", sa.String(length=2), nullable=False),
        sa.Column("board_member", sa.Boolean(), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("bronze", sa.Integer(), nullable=False),
        sa.Column("silver", sa.Integer(), nullable=False),
        sa.Column("gold", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "uptake_person_deltas",
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_cell_and_measures(),
        sa.PrimaryKeyConstraint(
            "staff_id",
            "day",
            "organisation_ods_code",
            "staff_group_code",
            "board_member",
            name=op.f("pk_uptake_person_deltas"),
        ),
    )
    op.create_table(
        "uptake_buckets",
        sa.Column("grain", sa.String(length=1), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        *_cell_and_measures(),
        sa.CheckConstraint("grain IN ('d', 'm', 'y')", name=op.f("ck_uptake_buckets_grain_known")),
        sa.PrimaryKeyConstraint(
            "grain",
            "period_start",
            "organisation_ods_code",
            "staff_group_code",
            "board_member",
            name=op.f("pk_uptake_buckets"),
        ),
    )
    op.create_table(
        "board_meetings",
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_ods_code", sa.String(length=10), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("qi_discussed", sa.Boolean(), nullable=False),
        sa.Column("agenda_reference", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_ods_code"],
            ["organisations.ods_code"],
            name=op.f("fk_board_meetings_organisation_ods_code_organisations"),
        ),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_board_meetings")),
    )
    with op.batch_alter_table("board_meetings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_board_meetings_organisation_ods_code_meeting_date",
            ["organisation_ods_code", "meeting_date"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_board_meetings_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("board_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_board_meetings_updated_at"))
        batch_op.drop_index("ix_board_meetings_organisation_ods_code_meeting_date")
    op.drop_table("board_meetings")
    op.drop_table("uptake_buckets")
    op.drop_table("uptake_person_deltas")
