from datetime import datetime

from sqlalchemy import Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdPk


class XapiDocument(Base):
    """A document of the xAPI State, Activity Profile or Agent Profile resource, stored as
    sent (any content type) and owned by the client that wrote it.

    ``kind`` is ``state``, ``activityProfile`` or ``agentProfile``. The parameters that name a
    document (activity id, agent by its identifier, registration, document id) can be long
    IRIs, so they are keyed by hashes: ``scope_hash`` over the owner, kind and the parameters
    but the document id (what a GET of ids or a DELETE of all states matches), ``key_hash``
    over those and the document id (one document).
    """

    __tablename__ = "xapi_documents"
    __table_args__ = (
        Index("ix_xapi_documents_scope_hash_updated_at", "scope_hash", "updated_at"),
        Index("ix_xapi_documents_family_hash_updated_at", "family_hash", "updated_at"),
    )

    id: Mapped[IdPk]
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope_hash: Mapped[str] = mapped_column(String(64))
    # The same without the registration: the states of an activity and agent, any registration.
    family_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    # The client that wrote it (no foreign key, as for statements: clients are never deleted).
    client_id: Mapped[str] = mapped_column(String(64))
    activity_id: Mapped[str | None] = mapped_column(String(2000))
    # The agent's identifier as statements' agent filter keys it (agent_key).
    agent_key: Mapped[str | None] = mapped_column(String(2000))
    registration: Mapped[str | None] = mapped_column(String(36))
    document_id: Mapped[str] = mapped_column(String(2000))
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # SHA-1 of content, hexadecimal: the ETag, as xAPI 1.0.3 asks.
    etag: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime]
