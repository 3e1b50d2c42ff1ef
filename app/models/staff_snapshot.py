from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, TimestampedMixin


class StaffSnapshot(TimestampedMixin, Base):
    """A full snapshot of one organisation's staff sent in several batches (an organisation
    can have more staff than one batch holds). Completing it end-dates the organisation's
    active staff that none of its batches named."""

    __tablename__ = "staff_snapshots"
    __table_args__ = (
        # One open snapshot per organisation (migration 0013).
        Index(
            "uq_staff_snapshots_open_organisation",
            "organisation_ods_code",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
    )

    id: Mapped[IdPk]
    organisation_ods_code: Mapped[str] = mapped_column(
        String(10), ForeignKey("organisations.ods_code")
    )
    client_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open, completed, expired
    batches: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)
    end_dated: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None]


class StaffSnapshotMember(Base):
    """An employee number one of the snapshot's batches named (forgotten on completion)."""

    __tablename__ = "staff_snapshot_members"

    snapshot_id: Mapped[int] = mapped_column(
        BigIntegerId, ForeignKey("staff_snapshots.id"), primary_key=True
    )
    employee_number: Mapped[str] = mapped_column(String(30), primary_key=True)
