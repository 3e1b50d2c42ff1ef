"""Disclosure control for dashboard clients, exact counts with staff:read, CSV equal to JSON,
and organisation-restricted clients."""

import csv
import io
from typing import Any

import httpx
import pytest

from tests.conftest import ClientFactory, auth
from tests.uptake.conftest import ADMIN
from tests.uptake.factories import put_person

pytestmark = pytest.mark.usefixtures("figures")
PARAMS = {"groupBy": "staffGroup", "organisation": "7A4", "asOf": "2025-06-30"}


def figures(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        r["staffGroup"]: (r["headcount"], r["atLeastBronze"], r["atLeastSilver"], r["gold"])
        for r in rows
    }


async def test_a_dashboard_client_sees_small_counts_withheld(
    client: httpx.AsyncClient, dashboard: dict[str, str]
) -> None:
    response = await client.get("/uptake", params=PARAMS, headers=auth(dashboard))
    rows = response.json()["data"]
    assert figures(rows) == {
        "Nursing and Midwifery Registered": (6, 5, None, None),
        "Administrative and Clerical": (None, None, None, None),
        "Medical and Dental": (None, None, 0, 0),
    }
    nursing = rows[2]
    assert nursing["atLeastBronzePercentage"] == 83.3
    assert nursing["atLeastSilverPercentage"] is None
    assert all(r["suppressed"] for r in rows)
    assert rows[1]["goldPercentage"] is None  # its headcount is withheld


async def test_a_lone_withheld_count_takes_the_next_smallest_with_it(
    client: httpx.AsyncClient, admin: dict[str, str], dashboard: dict[str, str]
) -> None:
    for index in range(3, 8):
        await put_person(client, admin, f"B{index}", staffGroup=ADMIN, startDate="2020-01-01")
    response = await client.get("/uptake", params=PARAMS, headers=auth(dashboard))
    headcounts = {k: v[0] for k, v in figures(response.json()["data"]).items()}
    # Medical and Dental (1) is withheld; Nursing (6) with it, or 7 - 6 - ... gives it away.
    assert headcounts == {
        "Nursing and Midwifery Registered": None,
        "Administrative and Clerical": 7,
        "Medical and Dental": None,
    }


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
