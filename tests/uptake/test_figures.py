"""GET /uptake against a hand-computed fixture (tests/uptake/conftest.py ``figures``)."""

from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.core.clock import today
from tests.conftest import auth
from tests.uptake.factories import put_person

pytestmark = pytest.mark.usefixtures("figures")


async def uptake(client: httpx.AsyncClient, who: dict[str, str], **params: Any) -> Any:
    response = await client.get("/uptake", params=params, headers=auth(who))
    assert response.status_code == 200, response.text
    return response.json()


def by(rows: list[dict[str, Any]], name: str) -> dict[Any, tuple[Any, ...]]:
    return {
        r[name]: (r["headcount"], r["atLeastBronze"], r["atLeastSilver"], r["gold"]) for r in rows
    }


async def test_figures_by_organisation_match_the_hand_count(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    body = await uptake(client, analyst, groupBy="organisation", asOf="2025-06-30")
    assert by(body["data"], "organisation") == {"7A4": (9, 7, 2, 1), "7A6": (4, 2, 0, 0)}
    row = body["data"][0]
    assert row["atLeastBronzePercentage"] == 77.8
    assert row["atLeastSilverPercentage"] == 22.2
    assert row["goldPercentage"] == 11.1
    assert row["bronzeTargetPercentage"] == 100
    assert row["suppressed"] is False


async def test_figures_on_past_dates_follow_grants_revocations_and_starts(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    counts = {
        "2024-06-30": {"7A4": (9, 7, 2, 1), "7A6": (5, 2, 0, 0)},
        "2023-01-31": {"7A4": (9, 7, 2, 1), "7A6": (5, 0, 0, 0)},
        "2021-02-28": {"7A4": (9, 7, 0, 0), "7A6": (5, 0, 0, 0)},
        "2019-05-01": {"7A4": (7, 0, 0, 0), "7A6": (5, 0, 0, 0)},
    }
    for as_of, expected in counts.items():
        body = await uptake(client, analyst, groupBy="organisation", asOf=as_of)
        assert by(body["data"], "organisation") == expected, as_of


async def test_whole_service_and_two_dimensions(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    whole = await uptake(client, analyst, asOf="2025-06-30")
    assert by(whole["data"], "asOf") == {"2025-06-30": (13, 9, 2, 1)}
    two = await uptake(client, analyst, groupBy="organisation,boardMember", asOf="2025-06-30")
    cells = {(r["organisation"], r["boardMember"]): r["headcount"] for r in two["data"]}
    assert cells == {("7A4", False): 8, ("7A4", True): 1, ("7A6", False): 4}
    nurses = await uptake(
        client,
        analyst,
        groupBy="staffGroup",
        organisation="7A4",
        staffGroup="03",
        asOf="2025-06-30",
    )
    assert by(nurses["data"], "staffGroup") == {"Nursing and Midwifery Registered": (6, 5, 2, 1)}


async def test_a_leaver_leaves_the_headcount_the_day_after_the_end_date(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    last_day = await uptake(
        client, analyst, groupBy="organisation", organisation="7A6", asOf="2024-12-31"
    )
    after = await uptake(
        client, analyst, groupBy="organisation", organisation="7A6", asOf="2025-01-01"
    )
    assert last_day["data"][0]["headcount"] == 5
    assert after["data"][0]["headcount"] == 4


async def test_a_mover_counts_in_the_old_organisation_before_the_move_and_the_new_after(
    client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    await put_person(client, admin, "A1", organisation="7A6", startDate="2019-04-01")
    day = today()
    before = await uptake(
        client, analyst, groupBy="organisation", asOf=(day - timedelta(days=1)).isoformat()
    )
    after = await uptake(client, analyst, groupBy="organisation", asOf=day.isoformat())
    assert by(before["data"], "organisation") == {"7A4": (9, 7, 2, 1), "7A6": (4, 2, 0, 0)}
    assert by(after["data"], "organisation") == {"7A4": (8, 6, 1, 0), "7A6": (5, 3, 1, 1)}


async def test_a_full_snapshot_leaver_is_out_of_the_headcount_from_today(
    client: httpx.AsyncClient, admin: dict[str, str], analyst: dict[str, str]
) -> None:
    records = [
        {"employeeNumber": f"C{i}", "givenName": "C", "familyName": "C", "organisation": "7A6",
         "staffGroup": "03", "boardMember": False, "startDate": "2018-01-01"}
        for i in range(1, 4)
    ]  # fmt: skip
    response = await client.post(
        "/staffBatches",
        json={"mode": "fullSnapshot", "organisation": "7A6", "records": records,
              "allowMassLeavers": True},
        params={"allowMassLeavers": "true"},
        headers=auth(admin),
    )  # fmt: skip
    assert response.status_code == 200, response.text
    now = await uptake(client, analyst, groupBy="organisation", organisation="7A6")
    assert now["data"][0]["headcount"] == 3
