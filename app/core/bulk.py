"""Set-based writes: one statement for a whole batch, on PostgreSQL and on SQLite.

On PostgreSQL rows travel as one array per column and are unpacked with ``unnest`` — a single
small statement whatever the number of rows, close to COPY speed. On SQLite the same insert
runs as an executemany (SQLite has no network round trips to save).
"""

import functools
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

    def __call__(self, session: AsyncSession | Session) -> Any:
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


def unnest_rows(table: Any, columns: Sequence[str]) -> Select[Any]:
    """``SELECT unnest(:unnest_col1), unnest(:unnest_col2), ...``: the rows as one array per
    column, given at execution by ``unnest_parameters``."""
    selected = []
    for name in columns:
        column = table.c[name]
        if _is_json(column):
            array = bindparam(_UNNEST + name, type_=ARRAY(Text()))
            selected.append(cast(func.unnest(array), JSONB).label(name))
        else:
            element = _array_element_type(column.type)
            array = bindparam(_UNNEST + name, type_=ARRAY(element))
            selected.append(func.unnest(array, type_=element).label(name))
    return select(*selected)


def unnest_parameters(
    table: Any, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> dict[str, list[Any]]:
    parameters = {}
    for name in columns:
        values = [row[name] for row in rows]
        if _is_json(table.c[name]):
            values = [None if v is None else json.dumps(v) for v in values]
        parameters[_UNNEST + name] = values
    return parameters


_UNNEST = "unnest_"


@functools.cache
def _is_json(column: Any) -> bool:
    return isinstance(column.type, (JSON, JSONB)) or isinstance(
        column.type.dialect_impl(_POSTGRESQL), JSONB
    )


def dialect_insert(dialect: str, table: Any) -> Any:
    """The dialect's INSERT (with ``on_conflict_*`` available on both), for a ``BuiltOnce``
    statement."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


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
    constants = constants or {}
    if is_postgresql(session) and len(rows) >= UNNEST_FROM_ROWS:
        columns = tuple(rows[0])
        built = _unnest_insert(table, columns, statement, constants)
        return built, unnest_parameters(table, columns, rows)
    base = statement if statement is not None else insert(table)
    statement = base.values(constants) if constants else base
    return statement, rows[0] if len(rows) == 1 else list(rows)


# (table, columns, id of the statement, ids of the constants) -> (what the ids are of, built)
_BUILT_UNNEST_INSERTS: dict[tuple[Any, ...], tuple[Any, Any]] = {}
_MOST_BUILT = 256


def _unnest_insert(
    table: Any,
    columns: tuple[str, ...],
    statement: Insert | None,
    constants: dict[str, ColumnElement[Any]],
) -> Any:
    """``INSERT ... SELECT unnest(...)``, built once for each table, columns, statement and
    constants: building it (arrays, casts, labels) costs more than executing it for a few
    rows. Callers pass statements and constants built once (``BuiltOnce``, module constants);
    the key holds them by identity, and the entry keeps them alive so no id is reused."""
    key = (table, columns, id(statement), tuple((n, id(e)) for n, e in constants.items()))
    found = _BUILT_UNNEST_INSERTS.get(key)
    if found is not None:
        return found[1]
    base = statement if statement is not None else insert(table)
    source = unnest_rows(table, columns).add_columns(
        *(expression.label(name) for name, expression in constants.items())
    )
    built = base.from_select([*columns, *constants], source)
    if len(_BUILT_UNNEST_INSERTS) >= _MOST_BUILT:  # a caller building statements per call
        _BUILT_UNNEST_INSERTS.clear()
    _BUILT_UNNEST_INSERTS[key] = ((statement, constants), built)
    return built
