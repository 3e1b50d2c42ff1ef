"""Set-based writes: one statement for a whole batch, on PostgreSQL and on SQLite.

On PostgreSQL rows travel as one array per column and are unpacked with ``unnest`` — a single
small statement whatever the number of rows, close to COPY speed. A text column travels as one
string, its values joined by a separator PostgreSQL splits again (``string_to_array``): asyncpg
encodes an array element by element in Python, checking each against the ``collections.abc``
classes, and for a staff batch that was more client CPU than the rest of the statement. On
SQLite the same insert runs as an executemany (SQLite has no network round trips to save).
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic_core import to_json
from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    Insert,
    Select,
    String,
    Text,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
    true,
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
    """``column = ANY(:array)`` on PostgreSQL (one parameter; text as one joined string, as
    ``unnest_rows`` sends it), ``IN (...)`` on SQLite."""
    if is_postgresql(session):
        element = _array_element_type(column.type)
        text = _joined(list(values)) if isinstance(element, String) and values else None
        if text is not None:
            split = _split(bindparam(None, text, type_=Text()))
            return column == any_(split)  # type: ignore[no-any-return]
        array = bindparam(None, list(values), type_=ARRAY(element))
        return column == any_(array)  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def rows_by_unique_key(
    session: AsyncSession, columns: Sequence[Any], key: Any, values: Sequence[Any]
) -> Select[Any]:
    """``SELECT columns WHERE key IN values``, for a ``key`` column with a unique index.

    On PostgreSQL each value is looked up in the key's index (a LATERAL subquery with LIMIT 1
    per value): written as ``key = ANY(...)``, a lookup of thousands of values is planned as a
    scan of the whole table while the table's statistics are stale, as they are while a new
    table is loaded (bench/README.md)."""
    if not is_postgresql(session):
        return select(*columns).where(key.in_(list(values)))
    element = _array_element_type(key.type)
    text = _joined(list(values)) if isinstance(element, String) and values else None
    array: Any = (
        _split(bindparam(None, text, type_=Text()))
        if text is not None
        else bindparam(None, list(values), type_=ARRAY(element))
    )
    keys = func.unnest(array, type_=element).table_valued("value").render_derived("keys")
    found = select(*columns).where(key == keys.c.value).limit(1).lateral("found")
    return select(found).select_from(keys.join(found, true()))


def in_parameter(dialect: str, column: Any, name: str) -> ColumnElement[bool]:
    """``column`` is one of the list given as parameter ``name`` at execution:
    ``= ANY(:name)`` on PostgreSQL (one array), an expanding ``IN`` on SQLite."""
    if dialect == "postgresql":
        array = bindparam(name, type_=ARRAY(_array_element_type(column.type)))
        return column == any_(array)  # type: ignore[no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]


async def execute_columns(session: AsyncSession, query: Any, parameters: Any = None) -> Any:
    """Runs a column query on the session's connection: plain rows, without the ORM's result
    machinery (which, for the tens of thousands of rows a batch reads, cost more Python than
    the rows themselves). Like ``session.execute`` with the service's sessions (autoflush is
    off), it does not flush: callers flush what they wrote first."""
    connection = await session.connection()
    return await connection.execute(query, parameters)


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


# How a column's values travel: one array, one joined string (text), or one value that every
# row shares (sent once, not once per row).
ARRAY_OF_VALUES, JOINED_TEXT, SAME_FOR_ALL = "array", "joined", "same"


def unnest_rows(table: Any, columns: Sequence[str], shape: Sequence[str]) -> Select[Any]:
    """``SELECT unnest(:unnest_col1), unnest(:unnest_col2), ...``: the rows as one array per
    column, one string to split for a ``JOINED_TEXT`` column, and a plain parameter for a
    ``SAME_FOR_ALL`` one (``shape`` says which, column by column), given at execution by
    ``unnest_parameters``."""
    selected = []
    for name, travels in zip(columns, shape, strict=True):
        column = table.c[name]
        parameter = _UNNEST + name
        value: Any
        if travels == JOINED_TEXT:
            value = func.unnest(_split(bindparam(parameter, type_=Text())), type_=Text())
        elif _is_text(column):  # one text, or an array of them
            value = bindparam(parameter, type_=Text())
            if travels == ARRAY_OF_VALUES:
                value = func.unnest(bindparam(parameter, type_=ARRAY(Text())), type_=Text())
        else:
            element = _array_element_type(column.type)
            value = bindparam(parameter, type_=element)
            if travels == ARRAY_OF_VALUES:
                value = func.unnest(bindparam(parameter, type_=ARRAY(element)), type_=element)
        selected.append((cast(value, JSONB) if _is_json(column) else value).label(name))
    return select(*selected)


def unnest_parameters(
    table: Any, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The parameters of ``unnest_rows`` for these rows' ``columns``, and how each column
    travels (its ``shape``): see ``unnest_column_parameters``."""
    return unnest_column_parameters(table, {name: [row[name] for row in rows] for name in columns})


def unnest_column_parameters(
    table: Any, values: Mapping[str, Sequence[Any]]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The parameters of ``unnest_rows`` for rows given column by column (``values``: each
    column's values in row order), and how each column travels (its ``shape``): a value
    shared by every row once; text joined, but for a column holding a value with the
    separator or the null mark in it; anything else as an array. At least one column travels
    per row, so that the rows are counted."""
    parameters: dict[str, Any] = {}
    shape = []
    for name, column_values in values.items():
        column = table.c[name]
        if _is_json(column):
            # pydantic-core's encoder: a third of the time of json.dumps for these small
            # documents; PostgreSQL parses them again as JSONB, so spacing does not matter.
            column_values = [None if v is None else to_json(v).decode() for v in column_values]
        if _same_for_all(column_values):
            parameters[_UNNEST + name] = column_values[0]
            shape.append(SAME_FOR_ALL)
            continue
        if _is_text(column):
            text = _joined(column_values)
            if text is not None:
                parameters[_UNNEST + name] = text
                shape.append(JOINED_TEXT)
                continue
        parameters[_UNNEST + name] = list(column_values)
        shape.append(ARRAY_OF_VALUES)
    if all(travels == SAME_FOR_ALL for travels in shape):  # the rows must still be counted
        first = _UNNEST + next(iter(values))
        parameters[first] = [parameters[first]] * len(next(iter(values.values())))
        shape[0] = ARRAY_OF_VALUES
    return tuple(shape), parameters


def _same_for_all(values: Sequence[Any]) -> bool:
    """Every value is the first one (the last and the middle are looked at first, so that
    most varying columns are told apart without a pass over all of them)."""
    first = values[0]
    return (
        values[-1] == first
        and values[len(values) // 2] == first
        and values.count(first) == len(values)
    )


_UNNEST = "unnest_"
# ASCII's unit separator between values, and its record separator standing for NULL: control
# characters no name, code, address or JSON text (which escapes them) holds.
_SEPARATOR, _NULL = "\x1f", "\x1e"
_SEPARATOR_SQL: ColumnElement[str] = literal_column("E'\\x1f'")
_NULL_SQL: ColumnElement[str] = literal_column("E'\\x1e'")


def _split(joined: ColumnElement[str]) -> Any:
    """The text array PostgreSQL makes again of a string ``_joined`` made."""
    return func.string_to_array(joined, _SEPARATOR_SQL, _NULL_SQL)


def _joined(values: Sequence[Any]) -> str | None:
    """The values as one string for ``string_to_array``, or None when they cannot be (a value
    that is not text, or holds the separator or the null mark; a single empty string, which
    PostgreSQL would split into no values at all)."""
    nulls = values.count(None)
    if nulls:
        values = [_NULL if v is None else v for v in values]
    try:
        text = _SEPARATOR.join(values)
    except TypeError:
        return None
    if (
        text.count(_SEPARATOR) != len(values) - 1
        or text.count(_NULL) != nulls
        or (len(values) == 1 and not text)
    ):
        return None
    return text


@functools.cache
def _is_json(column: Any) -> bool:
    return isinstance(column.type, (JSON, JSONB)) or isinstance(
        column.type.dialect_impl(_POSTGRESQL), JSONB
    )


@functools.cache
def _is_text(column: Any) -> bool:
    return _is_json(column) or isinstance(_array_element_type(column.type), String)


def dialect_insert(dialect: str, table: Any) -> Any:
    """The dialect's INSERT (with ``on_conflict_*`` available on both), for a ``BuiltOnce``
    statement."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def insert_rows(
    session: AsyncSession,
    table: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    statement: Insert | None = None,
    constants: dict[str, ColumnElement[Any]] | None = None,
    columns: Sequence[str] | None = None,
) -> Any:
    """Inserts all rows with one statement. ``statement`` may add ON CONFLICT / RETURNING;
    ``constants`` are SQL expressions given to every row (e.g. the transaction id);
    ``columns`` are the rows' keys to insert (by default every key of the first row)."""
    if not rows:
        return None
    prepared, parameters = insert_rows_statement(
        session, table, rows, statement=statement, constants=constants, columns=columns
    )
    return await session.execute(prepared, parameters)


def columns_of(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, Sequence[Any]]:
    """Rows held as tuples (each in ``names``' order; at least one), column by column, as
    ``insert_columns`` takes them."""
    return dict(zip(names, zip(*rows, strict=True), strict=True))


async def insert_columns(
    session: AsyncSession,
    table: Any,
    values: Mapping[str, Sequence[Any]],
    *,
    statement: Insert | None = None,
    constants: dict[str, ColumnElement[Any]] | None = None,
) -> Any:
    """``insert_rows`` for rows given column by column (``values``: each column's values, in
    row order): for a caller holding its rows as tuples or objects, which would otherwise
    build a dict for each row that the unnest path then takes apart again, column by column."""
    count = len(next(iter(values.values())))
    if not count:
        return None
    if is_postgresql(session) and count >= UNNEST_FROM_ROWS:
        shape, parameters = unnest_column_parameters(table, values)
        prepared = _unnest_insert(table, tuple(values), shape, statement, constants or {})
        return await session.execute(prepared, parameters)
    rows = [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)]
    return await insert_rows(session, table, rows, statement=statement, constants=constants)


def insert_rows_statement(
    session: AsyncSession | Session,
    table: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    statement: Insert | None = None,
    constants: dict[str, ColumnElement[Any]] | None = None,
    columns: Sequence[str] | None = None,
) -> tuple[Any, Any]:
    """The statement and parameters ``insert_rows`` executes (for a synchronous session, as in
    a ``before_commit`` hook)."""
    constants = constants or {}
    if is_postgresql(session) and len(rows) >= UNNEST_FROM_ROWS:
        names = tuple(columns if columns is not None else rows[0])
        shape, parameters = unnest_parameters(table, names, rows)
        return _unnest_insert(table, names, shape, statement, constants), parameters
    if columns is not None:
        rows = [{name: row[name] for name in columns} for row in rows]
    base = statement if statement is not None else insert(table)
    statement = base.values(constants) if constants else base
    return statement, rows[0] if len(rows) == 1 else list(rows)


def _unnest_insert(
    table: Any,
    columns: tuple[str, ...],
    shape: tuple[str, ...],
    statement: Insert | None,
    constants: dict[str, ColumnElement[Any]],
) -> Any:
    """``INSERT ... SELECT unnest(...)`` of these columns, with ``constants`` for every row.
    (Built for each insert: caching it by statement saved under 5% of a batch, bench/README.md.)"""
    base = statement if statement is not None else insert(table)
    source = unnest_rows(table, columns, shape).add_columns(
        *(expression.label(name) for name, expression in constants.items())
    )
    return base.from_select([*columns, *constants], source)
