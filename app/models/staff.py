from datetime import date

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, TimestampedMixin


class StaffGroup(Base):
    """An ESR staff group (NHS Data Dictionary): reference data seeded by the migrations."""

    __tablename__ = "staff_groups"
    __table_args__ = {"info": {"seeded_by_migration": True}}

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class StaffMember(TimestampedMixin, Base):
    """A member of staff as HR last described them. Never deleted: a leaver has an end date."""

    __tablename__ = "staff_members"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="end_after_start"),
        Index("ix_staff_members_organisation_ods_code_id", "organisation_ods_code", "id"),
    )

    id: Mapped[IdPk]
    employee_number: Mapped[str] = mapped_column(String(30), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    work_email: Mapped[str | None] = mapped_column(String(254))
    # Lower-cased work e-mail: e-mails compare case-insensitively (completion matching).
    work_email_key: Mapped[str | None] = mapped_column(String(254), index=True)
    # xAPI mbox_sha1sum of the work e-mail: SHA-1 of "mailto:" + work_email_key.
    work_email_sha1: Mapped[str | None] = mapped_column(String(40), index=True)
    organisation_ods_code: Mapped[str] = mapped_column(
        String(10), ForeignKey("organisations.ods_code")
    )
    staff_group_code: Mapped[str] = mapped_column(String(2), ForeignKey("staff_groups.code"))
    job_title: Mapped[str | None] = mapped_column(String(200))
    board_member: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)


OPEN_PERIOD_INDEX = "uq_staff_history_staff_id_open"


class StaffHistory(Base):
    """Where a person was, from ``valid_from`` until (not including) ``valid_to``.

    Kept for the fields uptake is broken down by, so figures "as of" a past date count each
    person in the organisation, staff group and board they belonged to on that date.
    """

    __tablename__ = "staff_history"
    __table_args__ = (
        Index("ix_staff_history_staff_id_valid_from", "staff_id", "valid_from"),
        # At most one open period per person, whatever concurrent writers do.
        Index(
            OPEN_PERIOD_INDEX,
            "staff_id",
            unique=True,
            postgresql_where=text("valid_to IS NULL"),
            sqlite_where=text("valid_to IS NULL"),
        ),
    )

    id: Mapped[IdPk]
    staff_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("staff_members.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # Copies of the staff row's values, which carry the foreign keys; checking them again per
    # history row would double the cost of a bulk load.
    organisation_ods_code: Mapped[str] = mapped_column(String(10))
    staff_group_code: Mapped[str] = mapped_column(String(2))
    board_member: Mapped[bool] = mapped_column(Boolean)
