from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, JSONDocument, TimestampedMixin, utcnow

PROJECT_STATUSES = ("draft", "submitted", "approved", "returned", "withdrawn")
TEAM_ROLES = ("lead", "member", "sponsor", "mentor")
OUTCOMES = ("improved", "noChange", "worse", "inconclusive")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ImprovementProject(TimestampedMixin, Base):
    """A QI project: what was improved, how, with what outcome and learning, by whom.

    Measures, changes tested (PDSA cycles) and links are JSON documents read and written with
    the project; the team is a table of its own so that awards can query roles.
    """

    __tablename__ = "improvement_projects"
    __table_args__ = (
        CheckConstraint(_one_of("status", PROJECT_STATUSES), name="status_known"),
        CheckConstraint(f"outcome IS NULL OR {_one_of('outcome', OUTCOMES)}", name="outcome_known"),
        Index("ix_improvement_projects_organisation_ods_code_id", "organisation_ods_code", "id"),
        Index("ix_improvement_projects_status_id", "status", "id"),
    )

    id: Mapped[IdPk]
    title: Mapped[str] = mapped_column(String(200))
    organisation_ods_code: Mapped[str] = mapped_column(
        String(10), ForeignKey("organisations.ods_code")
    )
    area: Mapped[str | None] = mapped_column(String(200))
    problem: Mapped[str | None] = mapped_column(Text)
    aim: Mapped[str | None] = mapped_column(Text)
    measures: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    outcome: Mapped[str | None] = mapped_column(String(20))
    learning: Mapped[str | None] = mapped_column(Text)
    sustainability_and_spread: Mapped[str | None] = mapped_column(Text)
    # Stored as text and never fetched.
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    created_by_client_id: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)


class ProjectTeamMember(Base):
    """A person's role on a project: one role per person, at most one lead per project."""

    __tablename__ = "project_team_members"
    __table_args__ = (
        UniqueConstraint("project_id", "staff_id"),
        CheckConstraint(_one_of("role", TEAM_ROLES), name="role_known"),
        # "Approved projects where person X is mentor": by person and role, then the project.
        Index("ix_project_team_members_staff_id_role", "staff_id", "role", "project_id"),
        Index(
            "uq_project_team_members_one_lead",
            "project_id",
            unique=True,
            postgresql_where=text("role = 'lead'"),
            sqlite_where=text("role = 'lead'"),
        ),
    )

    id: Mapped[IdPk]
    project_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("improvement_projects.id"))
    staff_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("staff_members.id"))
    role: Mapped[str] = mapped_column(String(10))


class ProjectReview(Base):
    """One review on the Silver rubric. Every review is kept: a project may be returned and
    resubmitted several times. ``pass_mark`` is the one in force when it was recorded."""

    __tablename__ = "project_reviews"
    __table_args__ = (
        CheckConstraint("decision IN ('approved', 'returned')", name="decision_known"),
        CheckConstraint(
            "score_principles BETWEEN 0 AND 5 AND score_aim BETWEEN 0 AND 10 "
            "AND score_measures BETWEEN 0 AND 10 AND score_changes BETWEEN 0 AND 10 "
            "AND score_sustainability_and_spread BETWEEN 0 AND 10 "
            "AND score_reflection BETWEEN 0 AND 5",
            name="scores_in_range",
        ),
        Index("ix_project_reviews_project_id_id", "project_id", "id"),
    )

    id: Mapped[IdPk]
    project_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("improvement_projects.id"))
    reviewer_staff_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("staff_members.id"))
    reviewer_client_id: Mapped[str] = mapped_column(String(64))
    score_principles: Mapped[int] = mapped_column(Integer)
    score_aim: Mapped[int] = mapped_column(Integer)
    score_measures: Mapped[int] = mapped_column(Integer)
    score_changes: Mapped[int] = mapped_column(Integer)
    score_sustainability_and_spread: Mapped[int] = mapped_column(Integer)
    score_reflection: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    pass_mark: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(10))
    comments: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime] = mapped_column(default=utcnow)
