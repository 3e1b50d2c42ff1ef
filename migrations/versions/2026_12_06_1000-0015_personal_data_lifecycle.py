"""The personal data lifecycle: rectification trail, erasure requests, pseudonymisations and
the retention job (issue #26).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = sa.DateTime(timezone=True)


def _staff_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["staff_id"], ["staff_members.id"], name=op.f(f"fk_{table}_staff_id_staff_members")
    )


def upgrade() -> None:
    op.create_table(
        "personal_data_corrections",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("corrected_at", UTC, nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("fields", JSON_DOCUMENT, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        _staff_fk("personal_data_corrections"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_data_corrections")),
    )
    op.create_index(
        op.f("ix_personal_data_corrections_staff_id"), "personal_data_corrections", ["staff_id"]
    )
    op.create_table(
        "erasure_requests",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=False),
        sa.Column("legal_basis", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("override_reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "legal_basis IN ('noLongerNecessary', 'objectionUpheld', 'unlawfulProcessing', "
            "'legalObligation')",
            name=op.f("ck_erasure_requests_basis_known"),
        ),
        _staff_fk("erasure_requests"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_index(op.f("ix_erasure_requests_staff_id"), "erasure_requests", ["staff_id"])
    op.create_table(
        "retention_jobs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("ended_on_or_before", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("pseudonymised", sa.Integer(), nullable=False),
        sa.Column("last_staff_id", ID, nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", UTC, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done')", name=op.f("ck_retention_jobs_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_jobs")),
    )
    op.create_index(op.f("ix_retention_jobs_status"), "retention_jobs", ["status"])
    op.create_table(
        "staff_pseudonymisations",
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("pseudonymised_at", UTC, nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("retention_job_id", ID, nullable=True),
        sa.Column("erasure_request_id", ID, nullable=True),
        sa.CheckConstraint(
            "cause IN ('retention', 'erasure')", name=op.f("ck_staff_pseudonymisations_cause_known")
        ),
        _staff_fk("staff_pseudonymisations"),
        sa.ForeignKeyConstraint(
            ["retention_job_id"],
            ["retention_jobs.id"],
            name=op.f("fk_staff_pseudonymisations_retention_job_id_retention_jobs"),
        ),
        sa.ForeignKeyConstraint(
            ["erasure_request_id"],
            ["erasure_requests.id"],
            name=op.f("fk_staff_pseudonymisations_erasure_request_id_erasure_requests"),
        ),
        sa.PrimaryKeyConstraint("staff_id", name=op.f("pk_staff_pseudonymisations")),
    )


def downgrade() -> None:
    op.drop_table("staff_pseudonymisations")
    op.drop_index(op.f("ix_retention_jobs_status"), table_name="retention_jobs")
    op.drop_table("retention_jobs")
    op.drop_index(op.f("ix_erasure_requests_staff_id"), table_name="erasure_requests")
    op.drop_table("erasure_requests")
    op.drop_index(
        op.f("ix_personal_data_corrections_staff_id"), table_name="personal_data_corrections"
    )
    op.drop_table("personal_data_corrections")
