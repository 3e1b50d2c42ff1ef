"""Awards issued as Open Badges credentials, one row per award.

The row keeps what every copy of the credential must repeat (its id, the earner's salt) and
its id places it in the revocation status lists.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 13:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "issued_credentials",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("award_id", BIG_ID, nullable=False),
        sa.Column("credential_uuid", sa.String(length=36), nullable=False),
        sa.Column("subject_uuid", sa.String(length=36), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_client_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_issued_credentials_award_id_awards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_credentials")),
        sa.UniqueConstraint("award_id", name=op.f("uq_issued_credentials_award_id")),
        sa.UniqueConstraint(
            "credential_uuid", name=op.f("uq_issued_credentials_credential_uuid")
        ),
    )


def downgrade() -> None:
    op.drop_table("issued_credentials")
