"""Staff snapshots: at most one open per organisation, held by a partial unique index.

Two full snapshots of one organisation open at once would each take the other's people for
leavers; the index makes all concurrent opens but one fail. Of several open ones left by
earlier versions, all but the newest become "expired", the status an open snapshot past its
24 hours is given when the next one of its organisation is opened.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.execute(
        """
        UPDATE staff_snapshots SET status = 'expired'
        WHERE status = 'open' AND id NOT IN (
            SELECT max(id) FROM staff_snapshots WHERE status = 'open'
            GROUP BY organisation_ods_code
        )
        """
    )
    with op.batch_alter_table("staff_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            "uq_staff_snapshots_open_organisation",
            ["organisation_ods_code"],
            unique=True,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_snapshots", schema=None) as batch_op:
        batch_op.drop_index("uq_staff_snapshots_open_organisation")
    # Earlier versions know only open and completed, and tell expiry by the opening time.
    op.execute("UPDATE staff_snapshots SET status = 'open' WHERE status = 'expired'")
