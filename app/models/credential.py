from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, utcnow


class IssuedCredential(Base):
    """An award issued as an Open Badges credential: one per award, made when it is first
    asked for, kept so that every copy of it says the same.

    ``id`` is also the credential's place in the revocation status lists
    (``app/credentials/status_lists.py``). Whether it is revoked is its award's status, so
    nothing here changes when the award is revoked. ``salt`` hashes the earner's e-mail
    address (a salt per credential, so two credentials of one person cannot be linked by it).
    """

    __tablename__ = "issued_credentials"

    id: Mapped[IdPk]
    award_id: Mapped[int] = mapped_column(BigIntegerId, ForeignKey("awards.id"), unique=True)
    credential_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    subject_uuid: Mapped[str] = mapped_column(String(36))
    salt: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_client_id: Mapped[str | None] = mapped_column(String(64))
