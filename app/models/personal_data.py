"""The personal data lifecycle: corrections, erasure requests, pseudonymisations, and the
retention job that pseudonymises leavers once their retention period has passed."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, JSONDocument, utcnow

ERASURE_GROUNDS = ("noLongerNecessary", "objectionUpheld", "unlawfulProcessing", "legalObligation")
PSEUDONYMISATION_CAUSES = ("retention", "erasure")
RETENTION_JOB_STATUSES = ("pending", "running", "done")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PersonalDataCorrection(Base):
    """A change of a person's names or e-mail (rectification): who, when and why.

    Only the names of the fields changed are kept, never the values before, so the trail does
    not keep what was corrected (nor what pseudonymisation removes)."""

    __tablename__ = "personal_data_corrections"

    id: Mapped[IdPk]
    staff_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("staff_members.id"), index=True)
    corrected_at: Mapped[datetime] = mapped_column(default=utcnow)
    client_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(100))
    fields: Mapped[list[str]] = mapped_column(JSONDocument)
    reason: Mapped[str | None] = mapped_column(String(500))


class ErasureRequest(Base):
    """A request to erase a person's data (UK GDPR article 17), with its legal ground."""

    __tablename__ = "erasure_requests"
    __table_args__ = (CheckConstraint(_one_of("legal_basis", ERASURE_GROUNDS), name="basis_known"),)

    id: Mapped[IdPk]
    staff_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("staff_members.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    client_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(100))
    legal_basis: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    # Set when the person was a current employee: why erasure went ahead all the same.
    override_reason: Mapped[str | None] = mapped_column(String(500))


class StaffPseudonymisation(Base):
    """That (and why) a person was pseudonymised; at most once."""

    __tablename__ = "staff_pseudonymisations"
    __table_args__ = (
        CheckConstraint(_one_of("cause", PSEUDONYMISATION_CAUSES), name="cause_known"),
    )

    staff_id: Mapped[int] = mapped_column(
        BigIntegerId, ForeignKey("staff_members.id"), primary_key=True
    )
    pseudonymised_at: Mapped[datetime] = mapped_column(default=utcnow)
    cause: Mapped[str] = mapped_column(String(20))
    retention_job_id: Mapped[int | None] = mapped_column(
        BigIntegerId, ForeignKey("retention_jobs.id")
    )
    erasure_request_id: Mapped[int | None] = mapped_column(
        BigIntegerId, ForeignKey("erasure_requests.id")
    )


class RetentionJob(Base):
    """One sweep of leavers whose retention period has passed, in chunks of people by id.

    ``last_staff_id`` advances with each chunk's pseudonymisations, in the same transaction, so
    a sweep that stops resumes after it. A runner holds the job by its lease; another takes
    it over once the lease has expired (as ``award_evaluation_jobs``)."""

    __tablename__ = "retention_jobs"
    __table_args__ = (
        CheckConstraint(_one_of("status", RETENTION_JOB_STATUSES), name="status_known"),
    )

    id: Mapped[IdPk]
    # Leavers whose end date is on or before this day are due.
    ended_on_or_before: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    pseudonymised: Mapped[int] = mapped_column(Integer, default=0)
    last_staff_id: Mapped[int | None] = mapped_column(BigIntegerId)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
