"""The uptake outbox carries the placements of the people a write created.

A staff batch that creates people notes them for the projection, which read each back (staff
row, dated history, awards) to work out what they add to the figures. The write already knows
where it placed them: ``placements`` holds that for the people it created, so that the worker
need not read them back. Nullable: rows of other writes, and rows noted before this revision,
have none, and are read back as before.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("uptake_pending") as batch:
        batch.add_column(sa.Column("placements", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("uptake_pending") as batch:
        batch.drop_column("placements")
