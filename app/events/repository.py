from collections.abc import Sequence, Set
from typing import Any

from sqlalchemy import BigInteger, and_, literal, literal_column, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.models import Event


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def current_transaction_id(session: AsyncSession) -> Any:
    """The writing transaction's id on PostgreSQL (a SQL expression), 0 on SQLite."""
    return _POSTGRESQL_TRANSACTION_ID if _is_postgresql(session) else _NO_TRANSACTION_ID


# Built once, as every other statement element that does not change.
_POSTGRESQL_TRANSACTION_ID = literal_column("(pg_current_xact_id()::text)::bigint", BigInteger)
_NO_TRANSACTION_ID = literal(0, BigInteger)


async def read_feed(
    session: AsyncSession,
    *,
    after: tuple[int, int] | None,
    types: Sequence[str],
    organisations: Set[str] | None,
    client_id: str,
    limit: int,
) -> list[Event]:
    query = select(Event).order_by(Event.transaction_id, Event.id).limit(limit)
    if after is not None:
        query = query.where(tuple_(Event.transaction_id, Event.id) > tuple_(*after))
    if types:
        query = query.where(Event.type.in_(list(types)))
    if organisations is not None:
        # An event of no organisation (an unmatched completion's) is its client's own.
        query = query.where(
            or_(
                and_(Event.organisation_ods_code.is_(None), Event.client_id == client_id),
                Event.organisation_ods_code.in_(sorted(organisations)),
            )
        )
    if _is_postgresql(session):
        query = query.where(
            Event.transaction_id < text("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")
        )
    return list((await session.scalars(query)).all())


# The feed shows an event once every transaction that started before its own has ended, on the
# whole cluster: the oldest transaction still running that has a transaction id (it has written,
# in any database, or holds one) sets the horizon, prepared transactions too. Its age is how
# long it has held the feed back. Other roles' transactions show only to a role with pg_monitor.
_OLDEST_WRITER_AGE = text(
    """
    SELECT coalesce(extract(epoch FROM clock_timestamp() - min(started)), 0)::float8
    FROM (
        SELECT xact_start AS started FROM pg_stat_activity
        WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
        UNION ALL
        SELECT prepared FROM pg_prepared_xacts
    ) AS writers
    """
)


async def feed_holdback_seconds(connection: AsyncConnection) -> float:
    """How long the oldest running transaction of the cluster has held the feed back (0 when
    none; always 0 on SQLite, whose feed holds nothing back)."""
    if connection.dialect.name != "postgresql":
        return 0.0
    return float(await connection.scalar(_OLDEST_WRITER_AGE) or 0.0)
