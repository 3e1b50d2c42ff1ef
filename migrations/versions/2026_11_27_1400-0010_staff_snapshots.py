"""Full snapshots sent in several batches: an organisation can have more staff than one batch
of 10,000 records holds.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 14:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_snapshots",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("organisation_ods_code", sa.String(length=10), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("end_dated", sa.Integer(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["organisation_ods_code"],
            ["organisations.ods_code"],
            name=op.f("fk_staff_snapshots_organisation_ods_code_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_snapshots")),
    )
    with op.batch_alter_table("staff_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_snapshots_updated_at"), ["updated_at"], unique=False
        )
    op.create_table(
        "staff_snapshot_members",
        sa.Column("snapshot_id", ID, nullable=False),
        sa.Column("employee_number", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["staff_snapshots.id"],
            name=op.f("fk_staff_snapshot_members_snapshot_id_staff_snapshots"),
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "employee_number", name=op.f("pk_staff_snapshot_members")
        ),
    )


def downgrade() -> None:
    op.drop_table("staff_snapshot_members")
    op.drop_table("staff_snapshots")
