"""One open history period per person, held by the database; awards dated by their evidence.

Staff history: at most one open period per person, held by a partial unique index. Two requests
creating one new person at the same moment each wrote an open period, and the person was
counted twice in the uptake from then on. The writes now refuse that themselves
(app/staff/repository.py); the index makes it a rule no concurrent writer can break. Periods
such a race left behind are removed first: of a person's open periods, the one that matches
their staff record is kept (else the first). If any were removed, the uptake summary counted
those people twice: rebuild it with ``iqt uptake rebuild``.

Awards: ``attained_at``, when the evidence completed the level, which moves when earlier
evidence arrives or the evidence it rests on is retracted; ``granted_at`` becomes when the
service granted it. Until now ``granted_at`` held the evidence's date as it was at the grant:
it is copied to ``attained_at``, and a rules-granted award's ``granted_at`` becomes its row's
``created_at``. A legacy award keeps the date it was granted before this service as both. The
uptake counts awards from ``attained_at``, the same dates as before, so it needs no rebuild.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("valid_to IS NULL")

# 1 when the period is where the staff record says the person is.
_MATCHES = """CASE WHEN {h}.organisation_ods_code = s.organisation_ods_code
    AND {h}.staff_group_code = s.staff_group_code
    AND {h}.board_member = s.board_member THEN 1 ELSE 0 END"""

# The open periods that another open period of the same person is preferred to.
_SURPLUS_OPEN_PERIODS = f"""
SELECT h.id FROM staff_history h JOIN staff_members s ON s.id = h.staff_id
WHERE h.valid_to IS NULL AND EXISTS (
    SELECT 1 FROM staff_history k
    WHERE k.staff_id = h.staff_id AND k.valid_to IS NULL AND k.id <> h.id
      AND ({_MATCHES.format(h="k")} > {_MATCHES.format(h="h")}
           OR ({_MATCHES.format(h="k")} = {_MATCHES.format(h="h")} AND k.id < h.id))
)"""


def upgrade() -> None:
    _one_open_history_period()
    _award_attainment()


def downgrade() -> None:
    op.execute(
        "UPDATE awards SET granted_at = attained_at WHERE rules_version IS NOT NULL"
    )
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.drop_column("attained_at")
    with op.batch_alter_table("staff_history", schema=None) as batch_op:
        batch_op.drop_index("uq_staff_history_staff_id_open")


def _award_attainment() -> None:
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attained_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE awards SET attained_at = granted_at")
    op.execute("UPDATE awards SET granted_at = created_at WHERE rules_version IS NOT NULL")
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.alter_column("attained_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def _one_open_history_period() -> None:
    bind = op.get_bind()
    surplus = [row[0] for row in bind.execute(sa.text(_SURPLUS_OPEN_PERIODS))]
    if surplus:
        bind.execute(
            sa.text("DELETE FROM staff_history WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": surplus},
        )
        print(
            f"Removed {len(surplus)} duplicate open staff history period(s): run "
            "`iqt uptake rebuild` to recount the uptake summary."
        )
    with op.batch_alter_table("staff_history", schema=None) as batch_op:
        batch_op.create_index(
            "uq_staff_history_staff_id_open",
            ["staff_id"],
            unique=True,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )

