from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdPk, utcnow


class ApiClient(Base):
    """A system allowed to call the API with OAuth2 client credentials."""

    __tablename__ = "api_clients"

    id: Mapped[IdPk]
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    # After `iqt clients rotate-secret`, the secret it replaced still works until this moment.
    previous_secret_hash: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None]
    scopes: Mapped[list[str]] = mapped_column(JSON)
    # None: every organisation; otherwise the ODS codes this client may see and change.
    organisations: Mapped[list[str] | None] = mapped_column(JSON)
    # xAPI: the account homePage whose account names are this client's employee numbers.
    xapi_account_home_page: Mapped[str | None] = mapped_column(String(500))
    # Overrides IQT_RATE_LIMIT for this client (a `limits` string such as "5000/minute").
    rate_limit: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
