"""Completions remember the organisations their sender was restricted to.

A completion names only staff of the sending client's organisations, when it is recorded and
when HR's later records match it (app/staff/resolution.py). Completions already stored are
given their client's organisations as they are now.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 06:00:00+00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("completions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sender_organisations", sa.Text(), nullable=True))
    connection = op.get_bind()
    clients = connection.execute(
        sa.text("SELECT client_id, CAST(organisations AS TEXT) FROM api_clients")
    ).all()
    for client_id, organisations in clients:
        codes = json.loads(organisations) if organisations is not None else None
        if codes is None:
            continue
        connection.execute(
            sa.text(
                "UPDATE completions SET sender_organisations = :codes WHERE client_id = :client_id"
            ),
            {"codes": " ".join(sorted(codes)), "client_id": client_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("completions", schema=None) as batch_op:
        batch_op.drop_column("sender_organisations")
