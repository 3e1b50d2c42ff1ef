"""Disclosure control for dashboard clients, exact counts with staff:read, CSV equal to JSON,
and organisation-restricted clients."""

import csv
import io
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import ClientFactory, auth
from tests.uptake.conftest import ADMIN
from tests.uptake.factories import grant, put_person

pytestmark = pytest.mark.usefixtures("figures")
PARAMS = {"groupBy": "staffGroup", "organisation": "7A4", "asOf": "2025-06-30"}


def figures(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        r["staffGroup"]: (r["headcount"], r["atLeastBronze"], r["atLeastSilver"], r["gold"])
        for r in rows
    }


async def test_a_dashboard_client_sees_counts_withheld_or_rounded_to_five(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    session: AsyncSession,
    dashboard: dict[str, str],
) -> None:
    for index in range(7, 14):
        await put_person(client, admin, f"A{index}", startDate="2019-04-01")
    for index in range(7, 10):
        await grant(session, f"A{index}", "bronze", date(2021, 1, 1))
    response = await client.get("/uptake", params=PARAMS, headers=auth(dashboard))
    rows = response.json()["data"]
    # Exact: nursing (13, 8, 2, 1), admin (2, 1, 0, 0), medical (1, 1, 0, 0).
    assert figures(rows) == {
        "Nursing and Midwifery Registered": (15, 10, None, None),
        "Administrative and Clerical": (None, None, 0, 0),
        "Medical and Dental": (None, None, 0, 0),
    }
    nursing = rows[2]
    assert nursing["atLeastBronzePercentage"] == 66.7  # 10 of 15, from the published figures
    assert nursing["atLeastSilverPercentage"] is None  # its count is withheld
    assert rows[1]["goldPercentage"] is None  # its headcount is withheld
    assert [r["suppressed"] for r in rows] == [True, True, True]


async def test_a_total_is_the_exact_total_rounded_not_a_sum_of_rows(
    client: httpx.AsyncClient, admin: dict[str, str], dashboard: dict[str, str]
) -> None:
    for index in range(3, 9):
        await put_person(client, admin, f"B{index}", staffGroup=ADMIN, startDate="2020-01-01")
    response = await client.get("/uptake", params=PARAMS, headers=auth(dashboard))
    headcounts = {k: v[0] for k, v in figures(response.json()["data"]).items()}
    # Exact: nursing 6, admin 8, medical 1; no other count is withheld to cover the first.
    assert headcounts == {
        "Nursing and Midwifery Registered": None,
        "Administrative and Clerical": 10,
        "Medical and Dental": None,
    }
    whole = await client.get(
        "/uptake", params={"organisation": "7A4", "asOf": "2025-06-30"}, headers=auth(dashboard)
    )
    assert whole.json()["data"][0]["headcount"] == 15  # 15 exactly, rounded on its own


async def test_a_client_with_staff_read_sees_exact_counts(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    response = await client.get("/uptake", params=PARAMS, headers=auth(analyst))
    rows = response.json()["data"]
    assert figures(rows) == {
        "Nursing and Midwifery Registered": (6, 5, 2, 1),
        "Administrative and Clerical": (2, 1, 0, 0),
        "Medical and Dental": (1, 1, 0, 0),
    }
    assert not any(r["suppressed"] for r in rows)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/uptake", PARAMS),
        ("/uptake", {"groupBy": "organisation,boardMember", "asOf": "2025-06-30"}),
        ("/uptake/timeSeries", {"interval": "quarter", "from": "2024-01-01", "to": "2025-06-30",
                                "groupBy": "organisation"}),
        ("/uptake/board", {"from": "2025-01-01", "to": "2025-06-30"}),
        ("/uptake/projects", {}),
    ],
)  # fmt: skip
async def test_csv_holds_the_same_rows_as_json(
    client: httpx.AsyncClient, dashboard: dict[str, str], path: str, params: dict[str, str]
) -> None:
    as_json = await client.get(path, params=params, headers=auth(dashboard))
    as_csv = await client.get(
        path, params=params, headers={**auth(dashboard), "Accept": "text/csv"}
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    expected = [{k: _as_text(v) for k, v in row.items()} for row in as_json.json()["data"]]
    assert rows == expected
    if path != "/uptake/projects":
        assert rows


async def test_a_restricted_client_sees_only_its_organisations(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    restricted = await make_client(scopes=["uptake:read", "staff:read"], organisations=["7A6"])
    response = await client.get(
        "/uptake",
        params={"groupBy": "organisation", "asOf": "2025-06-30"},
        headers=auth(restricted),
    )
    assert [r["organisation"] for r in response.json()["data"]] == ["7A6"]
    whole = await client.get("/uptake", params={"asOf": "2025-06-30"}, headers=auth(restricted))
    assert whole.json()["data"][0]["headcount"] == 4
    other = await client.get("/uptake", params={"organisation": "7A4"}, headers=auth(restricted))
    assert other.status_code == 404


async def test_bad_parameters_are_422_problems(
    client: httpx.AsyncClient, dashboard: dict[str, str]
) -> None:
    for params in (
        {"groupBy": "organisation,staffGroup,boardMember"},
        {"groupBy": "jobTitle"},
        {"asOf": "2001-01-01"},
        {"staffGroup": "Astronauts"},
    ):
        response = await client.get("/uptake", params=params, headers=auth(dashboard))
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")
