from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, TimestampedMixin

# Only unmatched completions are looked up by the identifiers they were sent with (to match
# them when HR sends the person), so only they are indexed by them: matched rows, the vast
# majority, cost no index writes for it.
_UNMATCHED = text("match_status = 'unmatched'")


class Completion(TimestampedMixin, Base):
    """One completion of a course, as an e-learning platform (the client) sent it.

    ``employee_number``, ``work_email`` and ``email_sha1`` are the identifiers as sent;
    ``staff_id`` is the person they matched (None while unmatched). A retraction marks the row,
    never deletes it.
    """

    __tablename__ = "completions"
    __table_args__ = (
        UniqueConstraint("client_id", "external_id"),
        CheckConstraint("match_status IN ('matched', 'unmatched')", name="match_status"),
        CheckConstraint(
            "score_scaled IS NULL OR (score_scaled >= 0 AND score_scaled <= 1)",
            name="score_scaled",
        ),
        Index("ix_completions_staff_id", "staff_id"),
        # Unmatched completions are listed (in id order) and matched later; matched ones are
        # found by person. No index leads with match_status: with stale statistics the
        # planner would take it for "this person's matched completions" and read them all.
        Index(
            "ix_completions_unmatched_id",
            "id",
            postgresql_where=_UNMATCHED,
            sqlite_where=_UNMATCHED,
        ),
        Index(
            "ix_completions_unmatched_employee_number",
            "employee_number",
            postgresql_where=_UNMATCHED,
            sqlite_where=_UNMATCHED,
        ),
        Index(
            "ix_completions_unmatched_work_email_key",
            "work_email_key",
            postgresql_where=_UNMATCHED,
            sqlite_where=_UNMATCHED,
        ),
        Index(
            "ix_completions_unmatched_email_sha1",
            "email_sha1",
            postgresql_where=_UNMATCHED,
            sqlite_where=_UNMATCHED,
        ),
    )

    id: Mapped[IdPk]
    # No foreign keys to the client and the course: neither is ever deleted, both come from the
    # same transaction, and checking them would make every concurrent insert lock the same
    # api_clients and courses rows (and doubles the cost of a 10,000-record batch).
    client_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(200))
    # How it arrived: "api" (POST /completions), "batch" or "xapi".
    channel: Mapped[str] = mapped_column(String(10))
    course_id: Mapped[int] = mapped_column(BigIntegerId)
    employee_number: Mapped[str | None] = mapped_column(String(30))
    work_email: Mapped[str | None] = mapped_column(String(254))
    work_email_key: Mapped[str | None] = mapped_column(String(254))
    # SHA-1 of "mailto:" + e-mail: an xAPI mbox_sha1sum, or computed from the e-mail sent.
    email_sha1: Mapped[str | None] = mapped_column(String(40))
    completed_at: Mapped[datetime]
    passed: Mapped[bool | None] = mapped_column(Boolean)
    score_scaled: Mapped[float | None] = mapped_column(Float)
    # xAPI: SHA-256 of the statement as compared by the specification (same id, other content).
    content_hash: Mapped[str | None] = mapped_column(String(64))
    staff_id: Mapped[int | None] = mapped_column(BigIntegerId, ForeignKey("staff_members.id"))
    match_status: Mapped[str] = mapped_column(String(12))
    match_reason: Mapped[str | None] = mapped_column(String(300))
    matched_at: Mapped[datetime | None]
    retracted_at: Mapped[datetime | None]
    retraction_reason: Mapped[str | None] = mapped_column(String(500))
    retracted_by: Mapped[str | None] = mapped_column(String(64))
    # The organisations the sending client was restricted to (ODS codes separated by spaces),
    # None when it was not: the completion names only staff of these, when it is recorded and
    # when it is matched later (app/staff/resolution.py).
    sender_organisations: Mapped[str | None] = mapped_column(Text)
