"""Completions: the (match_status, id) index becomes a partial index of unmatched ids.

With statistics that lag behind the table (a new table, or autovacuum behind), PostgreSQL took
the (match_status, id) index for "these people's matched completions", the query every award
evaluation runs, and read every matched completion instead of the few of those people.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 23:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNMATCHED = sa.text("match_status = 'unmatched'")


def upgrade() -> None:
    with op.batch_alter_table("completions", schema=None) as batch_op:
        batch_op.drop_index("ix_completions_match_status_id")
        batch_op.create_index(
            "ix_completions_unmatched_id",
            ["id"],
            unique=False,
            postgresql_where=UNMATCHED,
            sqlite_where=UNMATCHED,
        )


def downgrade() -> None:
    with op.batch_alter_table("completions", schema=None) as batch_op:
        batch_op.drop_index("ix_completions_unmatched_id")
        batch_op.create_index(
            "ix_completions_match_status_id", ["match_status", "id"], unique=False
        )
