from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, JSONDocument, TimestampedMixin, utcnow

AWARD_LEVELS = ("bronze", "silver", "gold")
AWARD_STATUSES = ("active", "revoked")
# administrator: POST /awards/{id}/revocation; evidenceRetracted: by evaluation;
# levelBelowRevoked: the cascade to the levels above a revoked award.
REVOCATION_CAUSES = ("administrator", "evidenceRetracted", "levelBelowRevoked")
JOB_STATUSES = ("pending", "running", "done", "failed", "superseded")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _granted_at(context: Any) -> Any:
    """An award written without ``attained_at`` (a legacy award) was attained when granted."""
    return context.get_current_parameters()["granted_at"]


class AwardRules(Base):
    """One version of the award rules document. Versions are never changed or deleted.

    The current version is the highest: ``POST /awardRules`` always creates the next version and
    makes it current, and going back to older rules means posting them again, so the history of
    what applied when reads straight down the table.
    """

    __tablename__ = "award_rules"
    # Version 1 is seeded by the migrations (the test harness keeps seeded tables).
    __table_args__ = {"info": {"seeded_by_migration": True}}

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: seeded by the migrations.
    created_by_client_id: Mapped[str | None] = mapped_column(String(64))


class Award(TimestampedMixin, Base):
    """An IQT award of one person: granted by the rules, or recorded as a legacy award.

    At most one *active* award per (person, level), enforced by a partial unique index, so two
    concurrent evaluations grant one award, never two. A revoked award is kept, with why.

    ``attained_at`` is when its evidence completed the level: it moves when earlier evidence
    arrives or the evidence it rests on is retracted, and the uptake counts the award from
    then. ``granted_at`` is when the service granted it (for a legacy award, when it was
    granted before this service, which is also when it counts as attained).
    """

    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint(_one_of("level", AWARD_LEVELS), name="level_known"),
        CheckConstraint(_one_of("status", AWARD_STATUSES), name="status_known"),
        CheckConstraint(
            f"revocation_cause IS NULL OR {_one_of('revocation_cause', REVOCATION_CAUSES)}",
            name="revocation_cause_known",
        ),
        CheckConstraint(
            "(status = 'active' AND revoked_at IS NULL AND revoked_reason IS NULL"
            " AND revocation_cause IS NULL) OR (status = 'revoked' AND revoked_at IS NOT NULL"
            " AND revoked_reason IS NOT NULL AND revocation_cause IS NOT NULL)",
            name="revocation_complete",
        ),
        Index(
            "uq_awards_staff_id_level_active",
            "staff_id",
            "level",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    id: Mapped[IdPk]
    staff_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("staff_members.id"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    attained_at: Mapped[datetime] = mapped_column(default=_granted_at)
    granted_at: Mapped[datetime] = mapped_column(index=True)
    # None for a legacy award (granted before this service existed).
    rules_version: Mapped[int | None] = mapped_column(Integer, ForeignKey("award_rules.version"))
    # {"completionIds": [...], "projectIds": [...], "legacyReference": "..." | null}
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(10), default="active")
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    revocation_cause: Mapped[str | None] = mapped_column(String(20))


class AwardEvaluationJob(Base):
    """Re-evaluation of everyone under a new rules version, in chunks of people by id.

    ``last_staff_id`` is written with each chunk's awards, in the same transaction, so a job
    that stops resumes after it and never evaluates a person twice. A worker holds the job by
    its lease; another worker takes it over once the lease has expired.
    """

    __tablename__ = "award_evaluation_jobs"
    __table_args__ = (CheckConstraint(_one_of("status", JOB_STATUSES), name="status_known"),)

    id: Mapped[IdPk]
    rules_version: Mapped[int] = mapped_column(
        Integer, ForeignKey("award_rules.version"), unique=True
    )
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    granted: Mapped[int] = mapped_column(Integer, default=0)
    last_staff_id: Mapped[int | None] = mapped_column(BigIntegerId)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
