from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, TimestampedMixin


class Course(TimestampedMixin, Base):
    """A course in the catalogue: the e-learning whose completions platforms send."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint(
            "minimum_score IS NULL OR (minimum_score >= 0 AND minimum_score <= 1)",
            name="minimum_score_scaled",
        ),
    )

    id: Mapped[IdPk]
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(200))
    # "bronze", or None when the course counts towards no level.
    counts_towards: Mapped[str | None] = mapped_column(String(20))
    pass_required: Mapped[bool] = mapped_column(Boolean, default=False)
    minimum_score: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class CourseActivity(Base):
    """An xAPI activity id standing for a course: completed/passed/failed statements about it
    become completions of the course. An activity id belongs to one course at most."""

    __tablename__ = "course_activities"

    activity_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    course_id: Mapped[int] = mapped_column(
        BigIntegerId, ForeignKey("courses.id", ondelete="CASCADE"), index=True
    )
    # The activity's place in the course's xapiActivityIds, so the list reads back in order.
    position: Mapped[int] = mapped_column(Integer)
