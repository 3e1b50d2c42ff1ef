"""Set-based writes: one statement for a whole batch, on PostgreSQL and on SQLite.

On PostgreSQL rows travel as one array per column and are unpacked with ``unnest`` — a single
small statement whatever the number of rows, close to COPY speed. On SQLite the same insert
runs as an executemany (SQLite has no network round trips to save).
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    Insert,
    Select,
    Text,
    any_,
    bindparam,
    cast,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator, TypeEngine

# Below this many rows a plain INSERT ... VALUES is cheaper than building the arrays.
UNNEST_FROM_ROWS = 20

_POSTGRESQL = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def dialect_name(session: AsyncSession | Session) -> str:
    """``postgresql`` or ``sqlite``: of an async session, or of the synchronous one a session
    event hands over."""
    return session.get_bind().dialect.name


def is_postgresql(session: AsyncSession | Session) -> bool:
    return dialect_name(session) == "postgresql"


def column_in(session: AsyncSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column = ANY(:array)`` on PostgreSQL (one parameter), ``IN (...)`` on SQLite."""
    if is_postgresql(session):
        element = _array_element_type(column.type)
        array = bindparam(None, list(values), type_=ARRAY(element))
        return column == any_(array)  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def in_parameter(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """``column`` is one of the list given as parameter ``name`` at execution:
    ``= ANY(:name)`` on PostgreSQL (one array), an expanding ``IN`` on SQLite."""
    if dialect == "postgresql":
        array = bindparam(name, type_=ARRAY(_array_element_type(column.type)))
        return column == any_(array)  # type: ignore[no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]


class BuiltOnce:
    """A statement built once per dialect and executed with parameters after that: building
    a select (columns, joins, aliases) costs more Python than running it, on the paths that
    run once per request."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        self._build = build
        self._built: dict[str, Any] = {}

    def __call__(self, session: AsyncSession) -> Any:
        dialect = dialect_name(session)
        built = self._built.get(dialect)
        if built is None:
            built = self._built[dialect] = self._build(dialect)
        return built


def _array_element_type(column_type: TypeEngine[Any]) -> TypeEngine[Any]:
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, DateTime):
        return DateTime(timezone=True)
    variant = column_type.dialect_impl(_POSTGRESQL)
    return BigInteger() if isinstance(variant, BigInteger) else variant


def unnest_rows(table: Any, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Select[Any]:
    """``SELECT unnest(:col1), unnest(:col2), ...``: the rows as one array per column."""
    selected = []
    for name in columns:
        column = table.c[name]
        values = [row[name] for row in rows]
        if isinstance(column.type, (JSON, JSONB)) or isinstance(
            column.type.dialect_impl(_POSTGRESQL), JSONB
        ):
            texts = [None if v is None else json.dumps(v) for v in values]
            array = bindparam(None, texts, type_=ARRAY(Text()))
            selected.append(cast(func.unnest(array), JSONB).label(name))
        else:
            element = _array_element_type(column.type)
            array = bindparam(None, values, type_=ARRAY(element))
            selected.append(func.unnest(array, type_=element).label(name))
    return select(*selected)


def insert_statement(session: AsyncSession | Session, table: Any) -> Any:
    """The dialect's INSERT (with ``on_conflict_*`` available on both)."""
    return (postgresql.insert if is_postgresql(session) else sqlite.insert)(table)


async def insert_rows(
    session: AsyncSession,
    table: Any,
    rows: Sequence[dict[str, Any]],
    *,
    statement: Insert | None = None,
    constants: dict[str, ColumnElement[Any]] | None = None,
) -> Any:
    """Inserts all rows with one statement. ``statement`` may add ON CONFLICT / RETURNING;
    ``constants`` are SQL expressions given to every row (e.g. the transaction id)."""
    if not rows:
        return None
    prepared, parameters = insert_rows_statement(
        session, table, rows, statement=statement, constants=constants
    )
    return await session.execute(prepared, parameters)


def insert_rows_statement(
    session: AsyncSession | Session,
    table: Any,
    rows: Sequence[dict[str, Any]],
    *,
    statement: Insert | None = None,
    constants: dict[str, ColumnElement[Any]] | None = None,
) -> tuple[Any, Any]:
    """The statement and parameters ``insert_rows`` executes (for a synchronous session, as in
    a ``before_commit`` hook)."""
    base = statement if statement is not None else insert(table)
    constants = constants or {}
    if is_postgresql(session) and len(rows) >= UNNEST_FROM_ROWS:
        columns = list(rows[0])
        source = unnest_rows(table, columns, rows).add_columns(
            *(expression.label(name) for name, expression in constants.items())
        )
        return base.from_select([*columns, *constants], source), None
    statement = base.values(constants) if constants else base
    return statement, rows[0] if len(rows) == 1 else list(rows)
