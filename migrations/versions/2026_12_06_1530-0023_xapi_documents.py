"""xAPI documents: the State, Activity Profile and Agent Profile resources' documents.

One table for the three kinds, each document owned by the client that wrote it; keyed by a
hash of its owner, kind and parameters (which can be long IRIs), with the scope of a GET of
ids (or a DELETE of all states) indexed with the time it changed, for ``since``.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 15:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "xapi_documents",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scope_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=2000), nullable=True),
        sa.Column("agent_key", sa.String(length=2000), nullable=True),
        sa.Column("registration", sa.String(length=36), nullable=True),
        sa.Column("document_id", sa.String(length=2000), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.String(length=40), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_documents")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_xapi_documents_key_hash")),
    )
    op.create_index(
        "ix_xapi_documents_scope_hash_updated_at",
        "xapi_documents",
        ["scope_hash", "updated_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_xapi_documents_scope_hash_updated_at", table_name="xapi_documents")
    op.drop_table("xapi_documents")
