"""The uptake summary: dated deltas per person and their sums per cell, and board meetings.

A *cell* is (organisation, staff group, board member). Each person contributes dated deltas to
the cells they were in: headcount +1 from the day they count there, -1 from the day they stop;
"holds at least Bronze / at least Silver / Gold" likewise. ``uptake_person_deltas`` holds each
person's current contribution; ``uptake_buckets`` holds their sums per cell and period at three
grains (day, month, year), so a figure "as of" any date sums a bounded number of rows whatever
the number of staff. Both are a projection: writers note the people they changed in
``uptake_pending`` (the outbox, in their own transaction), and the background worker of
``app/uptake/projection_jobs.py``, holding ``uptake_projection`` by its lease, refreshes them.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.models.base import Base, BigIntegerId, IdPk, TimestampedMixin

GRAINS = ("d", "m", "y")


class UptakePersonDelta(Base):
    """One person's contribution to one cell on one day (changes, not running totals)."""

    __tablename__ = "uptake_person_deltas"

    staff_id: Mapped[int] = mapped_column(BigIntegerId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    organisation_ods_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    staff_group_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    board_member: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    headcount: Mapped[int] = mapped_column(Integer)
    bronze: Mapped[int] = mapped_column(Integer)
    silver: Mapped[int] = mapped_column(Integer)
    gold: Mapped[int] = mapped_column(Integer)


class UptakeBucket(Base):
    """The summed deltas of one cell over one period: a day (``d``), a calendar month (``m``)
    or a calendar year (``y``), named by its first day. Deltas dated before the programme start
    are folded onto the day before it."""

    __tablename__ = "uptake_buckets"
    __table_args__ = (CheckConstraint("grain IN ('d', 'm', 'y')", name="grain_known"),)

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    organisation_ods_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    staff_group_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    board_member: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    headcount: Mapped[int] = mapped_column(Integer)
    bronze: Mapped[int] = mapped_column(Integer)
    silver: Mapped[int] = mapped_column(Integer)
    gold: Mapped[int] = mapped_column(Integer)


class BoardMeeting(TimestampedMixin, Base):
    """A board meeting of an organisation, and whether it discussed quality improvement."""

    __tablename__ = "board_meetings"
    __table_args__ = (
        Index(
            "ix_board_meetings_organisation_ods_code_meeting_date",
            "organisation_ods_code",
            "meeting_date",
        ),
    )

    # Chosen by the recording system (PUT by natural key).
    meeting_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_ods_code: Mapped[str] = mapped_column(
        String(10), ForeignKey("organisations.ods_code")
    )
    meeting_date: Mapped[date] = mapped_column(Date)
    qi_discussed: Mapped[bool] = mapped_column(Boolean)
    agenda_reference: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class UptakePending(Base):
    """People whose uptake contribution may have changed, not yet refreshed: one row per
    write (a batch of any size), in the writer's transaction; deleted by the projection
    worker in the transaction that refreshes them."""

    __tablename__ = "uptake_pending"

    id: Mapped[IdPk]
    staff_ids: Mapped[list[int]] = mapped_column(JSON)
    # Of those, the people the write created, with where it placed them: [staff id, start
    # date, end date, organisation, staff group, board member] each, dates in ISO 8601. The
    # worker takes their facts from here rather than reading them back.
    placements: Mapped[list[list[Any]] | None] = mapped_column(JSON(none_as_null=True))
    noted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class UptakeProjection(Base):
    """The one row the projection worker holds by its lease (app/core/leases.py) while it
    refreshes a batch, and how far it has got. Seeded by the migration; always active."""

    __tablename__ = "uptake_projection"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'running')", name="status_known"),
        {"info": {"seeded_by_migration": True}},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # The last outbox row refreshed, when, and how many batches and people so far.
    last_pending_id: Mapped[int | None] = mapped_column(BigIntegerId)
    refreshed_at: Mapped[datetime | None]
    batches: Mapped[int] = mapped_column(BigInteger, default=0)
    people: Mapped[int] = mapped_column(BigInteger, default=0)
