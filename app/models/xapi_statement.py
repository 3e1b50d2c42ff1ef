from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigIntegerId, IdPk, JSONDocument

_NOT_VOIDED = "voided = false"
_REFERRING = "statement_ref IS NOT NULL"


class XapiStatement(Base):
    """An xAPI statement as received (evidence), with what its queries filter on.

    ``id`` orders statements as they were stored; ``statement`` is the statement as the LRS
    answers it (with its ``stored``, ``authority`` and ``version``). A voided statement stays,
    marked, and is then found only by its id as ``voidedStatementId``.
    """

    __tablename__ = "xapi_statements"
    __table_args__ = (
        # since/until and the unfiltered query, newest first, over the statements not voided.
        Index(
            "ix_xapi_statements_stored_at_id",
            "stored_at",
            "id",
            postgresql_where=_NOT_VOIDED,
            sqlite_where=_NOT_VOIDED,
        ),
        Index("ix_xapi_statements_verb_id_id", "verb_id", "id"),
        Index("ix_xapi_statements_registration_id", "registration", "id"),
        Index("ix_xapi_statements_client_id_id", "client_id", "id"),
        # The statements naming one just stored (xapi_repository.copy_reference_keys): only
        # those that name another (a few percent) are in it.
        Index(
            "ix_xapi_statements_statement_ref",
            "statement_ref",
            postgresql_where=_REFERRING,
            sqlite_where=_REFERRING,
        ),
    )

    id: Mapped[IdPk]
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)
    # The client that sent it (no foreign key, as for completions: clients are never deleted).
    client_id: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime]
    verb_id: Mapped[str] = mapped_column(String(2000))
    registration: Mapped[str | None] = mapped_column(String(36))
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    # The statement id a voiding statement voids (its StatementRef object).
    voids: Mapped[str | None] = mapped_column(String(36))
    # The statement id its StatementRef object names: a query also answers the statements
    # that refer to the statements it matches.
    statement_ref: Mapped[str | None] = mapped_column(String(36))
    # SHA-256 of the statement as the specification compares two with one id.
    content_hash: Mapped[str] = mapped_column(String(64))
    statement: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class XapiStatementLink(Base):
    """An agent (by its identifier) or an activity (by its id) a statement names, for the
    ``agent`` and ``activity`` filters: ``direct`` for the actor or object, else only for
    ``related_agents`` / ``related_activities``."""

    __tablename__ = "xapi_statement_links"
    __table_args__ = (Index("ix_xapi_statement_links_kind_key", "kind", "key", "statement_pk"),)

    statement_pk: Mapped[int] = mapped_column(
        BigIntegerId, ForeignKey("xapi_statements.id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # "agent" or "activity"
    key: Mapped[str] = mapped_column(String(2000), primary_key=True)
    direct: Mapped[bool] = mapped_column(Boolean)


class XapiStatementRefKey(Base):
    """A filter key of the statement a statement names by StatementRef (its target), copied
    when both are stored: a query answers the statements whose target matches it, and reads
    them here in order rather than checking each statement that names another.

    ``kind`` is "agent" or "activity" (the target's links, ``direct`` as there), "verb" or
    "registration" (``direct``)."""

    __tablename__ = "xapi_statement_ref_keys"
    __table_args__ = (Index("ix_xapi_statement_ref_keys_kind_key", "kind", "key", "statement_pk"),)

    # The statement that names the target.
    statement_pk: Mapped[int] = mapped_column(
        BigIntegerId, ForeignKey("xapi_statements.id"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    key: Mapped[str] = mapped_column(String(2000), primary_key=True)
    direct: Mapped[bool] = mapped_column(Boolean)
