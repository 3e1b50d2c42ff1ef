"""The differencing attacks of issue #20, made through the API as a dashboard builder would."""

from typing import Any

import httpx
import pytest

from tests.conftest import auth
from tests.staff.factories import batch_record
from tests.uptake.attacker import WITHHELD, left_over

AS_OF = "2025-06-30"
# Staff and board members per organisation: the 7A1 20, 7A4 3, 7A6 10 (total 33).
POPULATION = {"7A1": (20, 9), "7A4": (3, 2), "7A6": (10, 5)}


@pytest.fixture
async def population(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = {"name": "Betsi Cadwaladr University Health Board", "type": "healthBoard"}
    created = await client.put("/organisations/7A1", json=body, headers=auth(admin))
    assert created.status_code in (200, 201), created.text
    for org, (staff, board) in POPULATION.items():
        records = [
            batch_record(f"{org}-{i:02}", organisation=org, boardMember=i < board)
            for i in range(staff)
        ]
        response = await client.post(
            "/staffBatches",
            json={"mode": "upsert", "organisation": org, "records": records},
            headers=auth(admin),
        )
        assert response.status_code == 200, response.text
        assert response.json()["created"] == staff


async def _rows(client: httpx.AsyncClient, who: dict[str, str], path: str, **params: Any) -> Any:
    response = await client.get(path, params=params, headers=auth(who))
    assert response.status_code == 200, response.text
    return response.json()["data"]


@pytest.mark.usefixtures("population")
async def test_a_total_minus_the_other_organisations_does_not_give_a_withheld_count(
    client: httpx.AsyncClient, dashboard: dict[str, str]
) -> None:
    by_org = await _rows(client, dashboard, "/uptake", groupBy="organisation", asOf=AS_OF)
    shown = {r["organisation"]: r["headcount"] for r in by_org}
    assert shown == {"7A1": 20, "7A4": None, "7A6": 10}
    (whole,) = await _rows(client, dashboard, "/uptake", asOf=AS_OF)
    assert whole["headcount"] == 35  # 33 rounded on its own, not 20 + 10 + something
    (alone,) = await _rows(client, dashboard, "/uptake", organisation="7A6", asOf=AS_OF)
    assert alone["headcount"] == 10  # the same figure as in the breakdown
    hidden = left_over(whole["headcount"], [shown["7A1"], alone["headcount"]])
    assert len(hidden & set(WITHHELD)) > 1
    assert set(WITHHELD) <= hidden  # 1 to 7: nothing learnt at all


@pytest.mark.usefixtures("population")
async def test_board_members_minus_the_other_boards_do_not_give_a_withheld_count(
    client: httpx.AsyncClient, dashboard: dict[str, str]
) -> None:
    by_board = await _rows(client, dashboard, "/uptake", groupBy="boardMember", asOf=AS_OF)
    members = next(r["headcount"] for r in by_board if r["boardMember"])
    assert members == 15  # 16 board members in all
    quarter = {"interval": "quarter", "from": "2025-04-01", "to": AS_OF}
    boards = await _rows(client, dashboard, "/uptake/board", **quarter)
    shown = {r["organisation"]: r["boardMembers"] for r in boards}
    assert shown == {"7A1": 10, "7A4": None, "7A6": None}
    (alone,) = await _rows(client, dashboard, "/uptake/board", organisation="7A6", **quarter)
    assert alone["boardMembers"] is None  # 5: withheld wherever it is given
    hidden = left_over(members, [shown["7A1"], alone["boardMembers"]])
    assert len(hidden & set(WITHHELD)) > 1
    by_two = await _rows(
        client, dashboard, "/uptake", groupBy="organisation,boardMember", asOf=AS_OF
    )
    assert {r["organisation"]: r["headcount"] for r in by_two if r["boardMember"]} == shown


@pytest.mark.usefixtures("population")
async def test_a_client_with_staff_read_still_gets_exact_counts(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    by_org = await _rows(client, analyst, "/uptake", groupBy="organisation", asOf=AS_OF)
    assert {r["organisation"]: r["headcount"] for r in by_org} == {"7A1": 20, "7A4": 3, "7A6": 10}
    (whole,) = await _rows(client, analyst, "/uptake", asOf=AS_OF)
    assert whole["headcount"] == 33
