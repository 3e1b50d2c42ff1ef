from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdPk, utcnow


class AuditRecord(Base):
    """Who did what to which resource, and how it ended. Append-only: nothing updates it."""

    __tablename__ = "audit_records"

    id: Mapped[IdPk]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    client_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(20))
    resource_type: Mapped[str] = mapped_column(String(60), index=True)
    resource_id: Mapped[str | None] = mapped_column(String(100))
    request_id: Mapped[str] = mapped_column(String(100))
    organisation_ods_code: Mapped[str | None] = mapped_column(String(10))
    # "success" or "failure"; a failure keeps the status code the client was answered.
    outcome: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
