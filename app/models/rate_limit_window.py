from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class RateLimitWindow(Base):
    """The requests counted in the current fixed window of one rate limit key, by all processes.

    One row per key (a client, or a client id or address at the token endpoint); a new window
    replaces the count. Processes add their hits in batches (see app/ratelimits/database_store).
    """

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # Unix seconds; windows are aligned to multiples of their length, the same in every process.
    window_start: Mapped[int] = mapped_column(BigInteger)
    window_end: Mapped[int] = mapped_column(BigInteger, index=True)
    hits: Mapped[int] = mapped_column(Integer)
