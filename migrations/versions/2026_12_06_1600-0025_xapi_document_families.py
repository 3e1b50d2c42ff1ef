"""xAPI documents: the states of an activity and agent whatever their registration.

A GET of state ids or a DELETE of states without ``registration`` takes the states of every
registration (xAPI 1.0.3 Communication 2.3: "registration, if specified"); the scope hash
includes the registration, so such a request reached only the states stored without one.
``family_hash`` is the same hash without the registration, indexed with the time of change.
Existing rows are filled in by the same formula (a few per person: documents are rare).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 16:00:00+00:00
"""

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOCUMENTS = sa.table(
    "xapi_documents",
    sa.column("id", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("client_id", sa.String),
    sa.column("activity_id", sa.String),
    sa.column("agent_key", sa.String),
    sa.column("family_hash", sa.String),
)


def _family_hash(kind: str, client_id: str, activity: str | None, agent: str | None) -> str:
    # As app/completions/xapi_document_repository.py works it out (copied: a migration keeps
    # the formula of its day).
    parts = [kind, client_id, activity, agent]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def upgrade() -> None:
    op.add_column("xapi_documents", sa.Column("family_hash", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _DOCUMENTS.c.id,
            _DOCUMENTS.c.kind,
            _DOCUMENTS.c.client_id,
            _DOCUMENTS.c.activity_id,
            _DOCUMENTS.c.agent_key,
        )
    ).all()
    if rows:
        connection.execute(
            sa.update(_DOCUMENTS)
            .where(_DOCUMENTS.c.id == sa.bindparam("row_id"))
            .values(family_hash=sa.bindparam("hash")),
            [{"row_id": r.id, "hash": _family_hash(*r[1:])} for r in rows],
        )
    with op.batch_alter_table("xapi_documents") as batch:
        batch.alter_column("family_hash", existing_type=sa.String(length=64), nullable=False)
    op.create_index(
        "ix_xapi_documents_family_hash_updated_at",
        "xapi_documents",
        ["family_hash", "updated_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_xapi_documents_family_hash_updated_at", table_name="xapi_documents")
    with op.batch_alter_table("xapi_documents") as batch:
        batch.drop_column("family_hash")
