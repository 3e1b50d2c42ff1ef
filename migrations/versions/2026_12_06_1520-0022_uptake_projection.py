"""Uptake as a projection: an outbox of people to refresh, and the worker's leased row.

Writers no longer refresh the uptake summary in their own transaction: they add one row per
write to ``uptake_pending`` naming the people changed, and the background worker, holding the
one ``uptake_projection`` row by its lease, refreshes them in batches. The summary already
stored is exact; nothing is pending at upgrade.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 15:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "uptake_pending",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("staff_ids", sa.JSON(), nullable=False),
        sa.Column("noted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uptake_pending")),
    )
    with op.batch_alter_table("uptake_pending", schema=None) as batch_op:
        batch_op.create_index("ix_uptake_pending_noted_at", ["noted_at"], unique=False)
    projection = op.create_table(
        "uptake_projection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("last_pending_id", BIG_ID, nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("batches", sa.BigInteger(), nullable=False),
        sa.Column("people", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'running')", name=op.f("ck_uptake_projection_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uptake_projection")),
    )
    op.bulk_insert(projection, [{"id": 1, "status": "pending", "batches": 0, "people": 0}])


def downgrade() -> None:
    op.drop_table("uptake_projection")
    with op.batch_alter_table("uptake_pending", schema=None) as batch_op:
        batch_op.drop_index("ix_uptake_pending_noted_at")
    op.drop_table("uptake_pending")
