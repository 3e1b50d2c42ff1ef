"""xAPI statements kept as received, with the agents and activities they name.

Every valid statement is evidence, whatever its verb or actor; the links table lets the
agent and activity filters of the statement queries stay an index range as the store grows.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 08:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NOT_VOIDED = sa.text("voided = false")


def upgrade() -> None:
    op.create_table(
        "xapi_statements",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verb_id", sa.String(length=2000), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=True),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("voids", sa.String(length=36), nullable=True),
        sa.Column("statement_ref", sa.String(length=36), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "statement",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_statements")),
        sa.UniqueConstraint("statement_id", name=op.f("uq_xapi_statements_statement_id")),
    )
    with op.batch_alter_table("xapi_statements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_xapi_statements_stored_at_id",
            ["stored_at", "id"],
            postgresql_where=NOT_VOIDED,
            sqlite_where=NOT_VOIDED,
        )
        batch_op.create_index("ix_xapi_statements_verb_id_id", ["verb_id", "id"])
        batch_op.create_index("ix_xapi_statements_registration", ["registration"])
        batch_op.create_index("ix_xapi_statements_client_id_id", ["client_id", "id"])
        batch_op.create_index("ix_xapi_statements_statement_ref", ["statement_ref"])
    op.create_table(
        "xapi_statement_links",
        sa.Column("statement_pk", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=2000), nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_pk"],
            ["xapi_statements.id"],
            name=op.f("fk_xapi_statement_links_statement_pk_xapi_statements"),
        ),
        sa.PrimaryKeyConstraint(
            "statement_pk", "kind", "key", name=op.f("pk_xapi_statement_links")
        ),
    )
    with op.batch_alter_table("xapi_statement_links", schema=None) as batch_op:
        batch_op.create_index(
            "ix_xapi_statement_links_kind_key", ["kind", "key", "statement_pk"]
        )


def downgrade() -> None:
    op.drop_table("xapi_statement_links")
    op.drop_table("xapi_statements")
