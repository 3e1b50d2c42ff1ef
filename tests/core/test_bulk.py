"""Set-based inserts store every value exactly as given, whichever way a column travels."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import (
    ARRAY_OF_VALUES,
    JOINED_TEXT,
    SAME_FOR_ALL,
    UNNEST_FROM_ROWS,
    _joined,
    column_in,
    insert_columns,
    insert_rows,
    rows_by_unique_key,
    unnest_parameters,
)
from app.events.repository import current_transaction_id
from app.models import Event, StaffGroup

ROWS = 3 * UNNEST_FROM_ROWS  # enough for the unnest path on PostgreSQL

AWKWARD = [
    "Siân Llŷr",
    "O'Brien, Dafydd ap Gruffudd",
    "",
    " leading and trailing ",
    'quote " and backslash \\',
    "{braces, commas}",
    "NULL",
    "line\nbreak",
]


def _event(index: int, resource_id: str, organisation: str | None) -> dict[str, Any]:
    return {
        "type": "staffUpdated",
        "resource_type": "staff",
        "resource_id": resource_id,
        "organisation_ods_code": organisation,
        "client_id": None if index % 3 else f"client-{index}",
        "occurred_at": datetime(2026, 11, 27, 9, 30, index % 60, tzinfo=UTC),
        "data": {"changed": [resource_id], "n": index, "control": "\x1f\x1e"},
    }


async def _stored(session: AsyncSession) -> list[tuple[Any, ...]]:
    rows = await session.execute(
        select(
            Event.resource_id,
            Event.organisation_ods_code,
            Event.client_id,
            Event.occurred_at,
            Event.data,
        ).order_by(Event.id)
    )
    return [tuple(row) for row in rows]


def _expected(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["resource_id"], r["organisation_ods_code"], r["client_id"], r["occurred_at"], r["data"])
        for r in rows
    ]


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    constants = {"transaction_id": current_transaction_id(session)}
    await insert_rows(session, Event.__table__, rows, constants=constants)
    await session.commit()


async def test_text_with_commas_quotes_diacritics_and_nulls_is_stored_exactly(
    session: AsyncSession,
) -> None:
    rows = [
        _event(i, AWKWARD[i % len(AWKWARD)], None if i % 4 == 0 else "7A4") for i in range(ROWS)
    ]

    await _insert(session, rows)

    assert await _stored(session) == _expected(rows)


@pytest.mark.parametrize("count", [1, ROWS])
async def test_rows_given_column_by_column_are_stored_as_the_same_rows(
    session: AsyncSession, count: int
) -> None:
    rows = [_event(i, AWKWARD[i % len(AWKWARD)], "7A4") for i in range(count)]
    rows[-1]["resource_id"] = "tab\x1fseparated"
    columns = {name: [row[name] for row in rows] for name in rows[0]}

    constants = {"transaction_id": current_transaction_id(session)}
    await insert_columns(session, Event.__table__, columns, constants=constants)
    await session.commit()

    assert await _stored(session) == _expected(rows)


@pytest.mark.parametrize("awkward", ["tab\x1fseparated", "record\x1emark", "\x1e"])
async def test_a_value_holding_the_separator_or_the_null_mark_is_stored_exactly(
    session: AsyncSession, awkward: str
) -> None:
    rows = [_event(i, f"person-{i}", "7A4") for i in range(ROWS)]
    rows[7]["resource_id"] = awkward

    await _insert(session, rows)

    assert await _stored(session) == _expected(rows)


def test_each_column_travels_as_cheaply_as_its_values_allow() -> None:
    rows = [_event(i, f"person-{i}", None) for i in range(ROWS)]
    columns = tuple(rows[0])

    shape, parameters = unnest_parameters(Event.__table__, columns, rows)

    assert dict(zip(columns, shape, strict=True)) == {
        "type": SAME_FOR_ALL,
        "resource_type": SAME_FOR_ALL,
        "resource_id": JOINED_TEXT,
        "organisation_ods_code": SAME_FOR_ALL,
        "client_id": JOINED_TEXT,
        "occurred_at": ARRAY_OF_VALUES,
        "data": JOINED_TEXT,
    }
    assert parameters["unnest_type"] == "staffUpdated"
    assert parameters["unnest_organisation_ods_code"] is None
    assert isinstance(parameters["unnest_resource_id"], str)

    rows[3]["resource_id"] = "a\x1fb"
    shape, parameters = unnest_parameters(Event.__table__, columns, rows)

    assert shape[columns.index("resource_id")] == ARRAY_OF_VALUES
    assert parameters["unnest_resource_id"][3] == "a\x1fb"


async def test_rows_that_are_all_alike_are_all_stored(session: AsyncSession) -> None:
    rows = [_event(0, "the same", "7A4") for _ in range(ROWS)]
    shape, _ = unnest_parameters(Event.__table__, tuple(rows[0]), rows)
    assert shape[0] == ARRAY_OF_VALUES and set(shape[1:]) == {SAME_FOR_ALL}

    await _insert(session, rows)

    assert await _stored(session) == _expected(rows)


def test_text_is_joined_only_where_postgresql_splits_it_back_the_same() -> None:
    assert _joined(["a", None, ""]) == "a\x1f\x1e\x1f"
    assert _joined(["", ""]) == "\x1f"
    assert _joined([""]) is None  # string_to_array('') is an empty array
    assert _joined(["a\x1fb", "c"]) is None
    assert _joined(["\x1e", "c"]) is None
    assert _joined([1, 2]) is None


@pytest.mark.parametrize("wanted", [["Siân Llŷr", "", "NULL"], ["a\x1fb", "{braces, commas}"]])
async def test_column_in_finds_exactly_the_values_asked_for(
    session: AsyncSession, wanted: list[str]
) -> None:
    rows = [_event(i, name, "7A4") for i, name in enumerate([*AWKWARD, "a\x1fb", "a", "b"] * 3)]
    await _insert(session, rows)

    found = await session.scalars(
        select(Event.resource_id).where(column_in(session, Event.resource_id, [*wanted, None]))
    )

    assert sorted(found) == sorted(3 * wanted)


async def test_rows_by_unique_key_finds_each_value_asked_for_once(session: AsyncSession) -> None:
    await _insert(session, [_event(i, f"r{i}", "7A4") for i in range(ROWS)])
    ids = sorted(await session.scalars(select(Event.id)))
    wanted = [ids[0], ids[-1], ids[len(ids) // 2]]

    query = rows_by_unique_key(session, [Event.id, Event.resource_id], Event.id, [*wanted, -1])
    found = (await session.execute(query)).all()

    assert sorted(found) == sorted((i, f"r{ids.index(i)}") for i in wanted)
    groups = rows_by_unique_key(session, [StaffGroup.code], StaffGroup.code, ["03", "08", "zz"])
    assert sorted(await session.scalars(groups)) == ["03", "08"]
    nothing = rows_by_unique_key(session, [Event.id], Event.id, [])
    assert (await session.execute(nothing)).all() == []
