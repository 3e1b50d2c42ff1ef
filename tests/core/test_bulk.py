"""Set-based inserts store every value exactly as given, whichever way a column travels."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import UNNEST_FROM_ROWS, column_in, insert_rows, unnest_parameters
from app.events.repository import current_transaction_id
from app.models import Event

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


@pytest.mark.parametrize("awkward", ["tab\x1fseparated", "record\x1emark", "\x1e"])
async def test_a_value_holding_the_separator_or_the_null_mark_is_stored_exactly(
    session: AsyncSession, awkward: str
) -> None:
    rows = [_event(i, f"person-{i}", "7A4") for i in range(ROWS)]
    rows[7]["resource_id"] = awkward

    await _insert(session, rows)

    assert await _stored(session) == _expected(rows)


def test_text_columns_travel_joined_unless_a_value_holds_the_separator() -> None:
    rows = [_event(i, f"person-{i}", None) for i in range(ROWS)]
    columns = tuple(rows[0])

    joined, parameters = unnest_parameters(Event.__table__, columns, rows)

    assert joined == {"type", "resource_type", "resource_id", "organisation_ods_code",
                      "client_id", "data"}  # fmt: skip
    assert isinstance(parameters["unnest_resource_id"], str)
    assert isinstance(parameters["unnest_occurred_at"], list)

    rows[3]["resource_id"] = "a\x1fb"
    joined, parameters = unnest_parameters(Event.__table__, columns, rows)

    assert "resource_id" not in joined
    assert parameters["unnest_resource_id"][3] == "a\x1fb"


def test_a_single_empty_string_travels_as_an_array() -> None:
    rows = [_event(0, "", None)]

    joined, parameters = unnest_parameters(Event.__table__, tuple(rows[0]), rows)

    assert "resource_id" not in joined
    assert parameters["unnest_resource_id"] == [""]


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
