from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdPk, JSONDocument, utcnow


class Event(Base):
    """A change other systems may follow, written in the same transaction as the change.

    ``transaction_id`` is the writing PostgreSQL transaction (``pg_current_xact_id``); the feed
    is ordered by (transaction_id, id) and only shows transactions older than every one still
    running, so an event that commits late can never fall behind a consumer's cursor. On SQLite
    writers are serialised, ids commit in order, and transaction_id is 0.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_transaction_id_id", "transaction_id", "id"),)

    id: Mapped[IdPk]
    transaction_id: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    resource_type: Mapped[str] = mapped_column(String(60))
    resource_id: Mapped[str] = mapped_column(String(100))
    organisation_ods_code: Mapped[str | None] = mapped_column(String(10))
    client_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
