from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class XapiAttachment(Base):
    """The raw data of an xAPI attachment sent as a multipart/mixed part, keyed by its SHA-2
    (as statements declare it): statements that declare the same ``sha2`` share one row, and
    ``GET /xapi/statements?attachments=true`` answers it beside them. The request body limit
    bounds ``content``."""

    __tablename__ = "xapi_attachments"

    # Lower-case hexadecimal SHA-256, SHA-384 or SHA-512 of ``content``.
    sha2: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(255))
    length: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime]
