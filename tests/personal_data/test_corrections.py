"""The rectification trail of corrections sent in staff batches (JSON and CSV), as the
subject access export shows it."""

from typing import Any

import httpx
import pytest
from sqlalchemy import event

from tests.conftest import ClientFactory, auth
from tests.personal_data.conftest import IG_SCOPES
from tests.staff.factories import batch_record, seed_organisations

PEOPLE = [f"50000{i}" for i in range(5)]


@pytest.fixture
async def hr(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    """An HR client that has sent five people."""
    creds = await make_client(name="ESR")
    await seed_organisations(client, creds)
    sent = await _batch(client, creds, [batch_record(n) for n in PEOPLE])
    assert sent.json()["created"] == len(PEOPLE), sent.text
    return creds


async def _batch(
    client: httpx.AsyncClient, creds: dict[str, str], records: list[dict[str, Any]], **headers: str
) -> httpx.Response:
    response = await client.post(
        "/staffBatches",
        json={"mode": "upsert", "organisation": "7A4", "records": records},
        headers={**auth(creds), **headers},
    )
    assert response.status_code == 200, response.text
    return response


async def _corrections(
    client: httpx.AsyncClient, make_client: ClientFactory, employee_number: str
) -> list[dict[str, Any]]:
    ig = await make_client(scopes=IG_SCOPES, name="information governance")
    export = await client.get(f"/staff/{employee_number}/personalData", headers=auth(ig))
    assert export.status_code == 200, export.text
    rows: list[dict[str, Any]] = export.json()["corrections"]
    return rows


async def test_a_json_batch_records_its_corrections_with_the_reason_it_gives(
    client: httpx.AsyncClient, make_client: ClientFactory, hr: dict[str, str]
) -> None:
    records = [
        batch_record(PEOPLE[0], familyName="Llwyd"),
        batch_record(PEOPLE[1], givenName="Siani", workEmail="siani@wales.nhs.uk"),
        batch_record(PEOPLE[2], jobTitle="Ward Manager"),  # not a correction of who they are
        batch_record(PEOPLE[3]),  # unchanged
    ]

    result = await _batch(client, hr, records, **{"Correction-Reason": "ESR name fixes, March"})

    assert result.json()["updated"] == 3
    first = await _corrections(client, make_client, PEOPLE[0])
    assert [(c["fields"], c["reason"], c["clientId"]) for c in first] == [
        (["familyName"], "ESR name fixes, March", hr["client_id"])
    ]
    second = await _corrections(client, make_client, PEOPLE[1])
    assert [c["fields"] for c in second] == [["givenName", "workEmail"]]
    assert second[0]["requestId"] == result.headers["x-request-id"]
    assert await _corrections(client, make_client, PEOPLE[2]) == []
    assert await _corrections(client, make_client, PEOPLE[3]) == []


async def test_a_csv_batch_without_a_reason_is_recorded_as_an_hr_batch(
    client: httpx.AsyncClient, make_client: ClientFactory, hr: dict[str, str]
) -> None:
    csv_text = (
        "employeeNumber,givenName,familyName,workEmail,staffGroup,startDate\r\n"
        f"{PEOPLE[4]},Siân,Llŷr-Jones,person{PEOPLE[4]}@wales.nhs.uk,03,01/04/2019\r\n"
    )

    response = await client.post(
        "/staffBatches?mode=upsert&organisation=7A4",
        content=csv_text.encode(),
        headers={**auth(hr), "Content-Type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["updated"] == 1, response.text
    corrections = await _corrections(client, make_client, PEOPLE[4])
    assert [(c["fields"], c["reason"]) for c in corrections] == [(["familyName"], "HR batch")]


async def test_a_batch_records_its_corrections_in_one_statement(
    app: Any, client: httpx.AsyncClient, hr: dict[str, str]
) -> None:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if "personal_data_corrections" in sql:
            statements.append(sql)

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        records = [batch_record(n, familyName="Cywiro") for n in PEOPLE]
        result = await _batch(client, hr, records)
    finally:
        event.remove(engine, "before_cursor_execute", note)

    assert result.json()["updated"] == len(PEOPLE)
    assert len(statements) == 1, statements


async def test_an_overlong_batch_reason_is_refused_naming_the_header(
    client: httpx.AsyncClient, hr: dict[str, str]
) -> None:
    response = await client.post(
        "/staffBatches",
        json={"mode": "upsert", "organisation": "7A4", "records": [batch_record(PEOPLE[0])]},
        headers={**auth(hr), "Correction-Reason": "x" * 501},
    )

    assert response.status_code == 422, response.text
    assert response.json()["invalidParams"][0]["name"] == "Correction-Reason"
