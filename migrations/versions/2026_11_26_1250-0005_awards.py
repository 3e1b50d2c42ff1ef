"""Award rules (version 1 seeded), awards, and re-evaluation jobs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 12:50:00+00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Award rules version 1, frozen here as data: later changes to the code's DEFAULT_RULES must
# not change what this migration seeds.
RULES_VERSION_1 = {
    "description": "IQT awards, version 1: Bronze for the IQT e-learning, Silver for an "
    "approved improvement project (any outcome), Gold for mentoring two others' projects.",
    "levels": {
        "bronze": {"catalogueCourses": True, "courses": [], "minimumCourses": 1},
        "silver": {
            "minimumProjects": 1,
            "roles": ["lead", "member"],
            "outcomes": ["improved", "noChange", "worse", "inconclusive"],
        },
        "gold": {
            "minimumMentoredProjects": 2,
            "roles": ["mentor"],
            "outcomes": ["improved", "noChange", "worse", "inconclusive"],
            "leadMustBeAnotherPerson": True,
        },
    },
}


def upgrade() -> None:
    op.create_table(
        "award_rules",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_client_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_award_rules")),
    )
    op.bulk_insert(
        sa.table(
            "award_rules",
            sa.column("version", sa.Integer),
            sa.column("document", sa.JSON),
            sa.column("created_at", sa.DateTime(timezone=True)),
        ),
        [{"version": 1, "document": RULES_VERSION_1, "created_at": datetime.now(UTC)}],
    )
    op.create_table(
        "award_evaluation_jobs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("last_staff_id", ID, nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed', 'superseded')",
            name=op.f("ck_award_evaluation_jobs_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["rules_version"],
            ["award_rules.version"],
            name=op.f("fk_award_evaluation_jobs_rules_version_award_rules"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_award_evaluation_jobs")),
        sa.UniqueConstraint("rules_version", name=op.f("uq_award_evaluation_jobs_rules_version")),
    )
    with op.batch_alter_table("award_evaluation_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_award_evaluation_jobs_status"), ["status"], unique=False
        )

    op.create_table(
        "awards",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("staff_id", ID, nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rules_version", sa.Integer(), nullable=True),
        sa.Column("evidence", JSON_DOCUMENT, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.Column("revocation_cause", sa.String(length=20), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(status = 'active' AND revoked_at IS NULL AND revoked_reason IS NULL"
            " AND revocation_cause IS NULL) OR (status = 'revoked' AND revoked_at IS NOT NULL"
            " AND revoked_reason IS NOT NULL AND revocation_cause IS NOT NULL)",
            name=op.f("ck_awards_revocation_complete"),
        ),
        sa.CheckConstraint(
            "level IN ('bronze', 'silver', 'gold')", name=op.f("ck_awards_level_known")
        ),
        sa.CheckConstraint(
            "revocation_cause IS NULL OR revocation_cause IN "
            "('administrator', 'evidenceRetracted', 'levelBelowRevoked')",
            name=op.f("ck_awards_revocation_cause_known"),
        ),
        sa.CheckConstraint("status IN ('active', 'revoked')", name=op.f("ck_awards_status_known")),
        sa.ForeignKeyConstraint(
            ["rules_version"],
            ["award_rules.version"],
            name=op.f("fk_awards_rules_version_award_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_members.id"], name=op.f("fk_awards_staff_id_staff_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_awards")),
    )
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_awards_granted_at"), ["granted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_awards_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_awards_updated_at"), ["updated_at"], unique=False)
        # One active award per (person, level): two concurrent evaluations grant one, not two.
        batch_op.create_index(
            "uq_awards_staff_id_level_active",
            ["staff_id", "level"],
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.drop_index("uq_awards_staff_id_level_active")
        batch_op.drop_index(batch_op.f("ix_awards_updated_at"))
        batch_op.drop_index(batch_op.f("ix_awards_staff_id"))
        batch_op.drop_index(batch_op.f("ix_awards_granted_at"))

    op.drop_table("awards")
    with op.batch_alter_table("award_evaluation_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_award_evaluation_jobs_status"))

    op.drop_table("award_evaluation_jobs")
    op.drop_table("award_rules")
