from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdPk, JSONDocument, utcnow


class IdempotencyRecord(Base):
    """The answer given to a request sent with an ``Idempotency-Key``, replayed on a retry.

    Written in the transaction of the change it answers, so a key is stored exactly when the
    change is: a request that failed left nothing and may be sent again.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[IdPk]
    client_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, path and canonical body: the same key with another payload is 422.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    response_location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
