from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdPk, TimestampedMixin


class Organisation(TimestampedMixin, Base):
    """An NHS body, identified by its ODS code."""

    __tablename__ = "organisations"

    id: Mapped[IdPk]
    ods_code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    parent_ods_code: Mapped[str | None] = mapped_column(
        String(10), ForeignKey("organisations.ods_code")
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
