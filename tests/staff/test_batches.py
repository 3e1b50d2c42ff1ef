import gc
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from app.core import clock
from app.staff import batches
from tests.conftest import ClientFactory, auth, collector_enabled_during
from tests.staff.factories import batch_record, seed_organisations, settled_event_types


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    creds = await make_client()
    await seed_organisations(client, creds)
    return creds


async def post_batch(
    client: httpx.AsyncClient,
    creds: dict[str, str],
    records: list[dict[str, Any]],
    mode: str = "upsert",
    organisation: str | None = "7A4",
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"mode": mode, "records": records, **extra}
    if organisation is not None:
        body["organisation"] = organisation
    return await client.post("/staffBatches", json=body, headers=auth(creds))


async def event_types(client: httpx.AsyncClient, creds: dict[str, str]) -> list[str]:
    return await settled_event_types(
        client, creds, {"staffCreated", "staffUpdated", "staffEndDated"}
    )


async def test_batch_counts_created_updated_unchanged(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await post_batch(client, admin, [batch_record(f"40000{i}") for i in range(3)])
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["rejected"]) == (3, 0)
    records = [
        batch_record("400000"),
        batch_record("400001", jobTitle="Matron"),
        batch_record("400009"),
    ]
    second = (await post_batch(client, admin, records)).json()
    assert (second["created"], second["updated"], second["unchanged"]) == (1, 1, 1)


async def test_resending_the_same_batch_changes_nothing_and_emits_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    records = [batch_record(f"40000{i}") for i in range(4)]
    await post_batch(client, admin, records)
    before = await event_types(client, admin)
    again = (await post_batch(client, admin, records)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)
    assert await event_types(client, admin) == before


async def test_one_bad_record_is_named_and_the_rest_are_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    records = [
        batch_record("400001"),
        batch_record("400002", workEmail="nope", staffGroup="Wizards"),
        batch_record("400003"),
    ]
    result = (await post_batch(client, admin, records)).json()
    assert (result["created"], result["rejected"]) == (2, 1)
    rejection = result["rejections"][0]
    assert rejection["row"] == 2
    assert rejection["employeeNumber"] == "400002"
    assert {r["name"] for r in rejection["reasons"]} == {"workEmail"}
    assert (await client.get("/staff/400002", headers=auth(admin))).status_code == 404
    assert (await client.get("/staff/400003", headers=auth(admin))).status_code == 200


async def test_unknown_staff_group_is_rejected_with_reason(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    result = (
        await post_batch(client, admin, [batch_record("400001", staffGroup="Wizards")])
    ).json()
    assert result["rejections"][0]["reasons"][0]["name"] == "staffGroup"


async def test_duplicate_employee_number_in_one_batch_is_rejected(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    result = (
        await post_batch(client, admin, [batch_record("400001"), batch_record("400001")])
    ).json()
    assert (result["created"], result["rejected"]) == (1, 1)
    assert result["rejections"][0]["row"] == 2


async def test_more_than_10000_records_is_413(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    records = [{"employeeNumber": str(i)} for i in range(10_001)]
    response = await post_batch(client, admin, records)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_restricted_client_batch_rejects_other_organisations_records(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    await post_batch(client, admin, [batch_record("400009", organisation="7A4")])
    hr = await make_client(scopes=["staff:read", "staff:write"], organisations=["7A6"])
    records = [
        batch_record("400001", organisation="7A6"),
        batch_record("400002", organisation="7A4"),
        batch_record("400009", organisation="7A6"),
    ]
    result = (await post_batch(client, hr, records, organisation=None)).json()
    assert result["created"] == 1
    assert [r["row"] for r in result["rejections"]] == [2, 3]
    snapshot = await post_batch(client, hr, [], mode="fullSnapshot", organisation="7A4")
    assert snapshot.status_code == 404


async def test_full_snapshot_end_dates_the_absent(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    everyone = [batch_record(f"5000{i:02d}") for i in range(10)]
    await post_batch(client, admin, everyone)
    result = (await post_batch(client, admin, everyone[:9], mode="fullSnapshot")).json()
    assert result["endDated"] == 1
    leaver = (await client.get("/staff/500009", headers=auth(admin))).json()
    assert leaver["active"] is False
    assert leaver["endDate"] == (clock.today() - timedelta(days=1)).isoformat()
    assert "staffEndDated" in await event_types(client, admin)
    again = (await post_batch(client, admin, everyone[:9], mode="fullSnapshot")).json()
    assert (again["endDated"], again["unchanged"]) == (0, 9)


async def test_mass_leaver_guard_refuses_and_changes_nothing(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    everyone = [batch_record(f"5000{i:02d}") for i in range(10)]
    await post_batch(client, admin, everyone)
    events_before = await event_types(client, admin)
    changed_first = [batch_record("500000", jobTitle="Changed")]
    refused = await post_batch(client, admin, changed_first, mode="fullSnapshot")
    assert refused.status_code == 409
    assert refused.json()["wouldEndDate"] == 9
    assert "9" in refused.json()["detail"]
    assert (await client.get("/staff/500000", headers=auth(admin))).json()[
        "jobTitle"
    ] == "Staff Nurse"
    assert (await client.get("/staff?active=false", headers=auth(admin))).json()["data"] == []
    assert await event_types(client, admin) == events_before
    allowed = await post_batch(
        client, admin, changed_first, mode="fullSnapshot", allowMassLeavers=True
    )
    assert allowed.json()["endDated"] == 9


async def test_snapshot_rejects_records_of_another_organisation(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    result = (
        await post_batch(
            client, admin, [batch_record("1", organisation="7A6")], mode="fullSnapshot"
        )
    ).json()
    assert result["rejected"] == 1


async def test_mover_history_gives_the_old_organisation_before_the_move(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.staff.service.today", lambda: date(2026, 1, 10))
    monkeypatch.setattr("app.staff.batches.today", lambda: date(2026, 1, 10))
    await post_batch(client, admin, [batch_record("600001", organisation="7A6")])
    monkeypatch.setattr("app.staff.batches.today", lambda: date(2026, 6, 1))
    await post_batch(client, admin, [batch_record("600001", organisation="7A4")], organisation=None)
    history = (await client.get("/staff/600001/history", headers=auth(admin))).json()["periods"]
    assert [(p["validFrom"], p["validTo"], p["organisation"]) for p in history] == [
        ("2019-04-01", "2026-06-01", "7A6"),
        ("2026-06-01", None, "7A4"),
    ]


async def test_csv_batch_with_bom_crlf_quotes_uk_dates_and_welsh_names(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    csv_text = (
        "employeeNumber,givenName,familyName,workEmail,staffGroup,jobTitle,boardMember,"
        "startDate\r\n"
        '700001,Siân,"ap Gruffudd, Llŷr",s@wales.nhs.uk,03,'
        '"Nurse, Ward 7\r\nNights",N,01/04/2019\r\n'
        "700002,Dafydd,O'Brien,,Medical and Dental,Consultant,yes,2020-02-29\r\n"
        "700003,Bad,Date,,03,,no,31/02/2020\r\n"
    )
    response = await client.post(
        "/staffBatches?mode=upsert&organisation=7A4",
        content=b"\xef\xbb\xbf" + csv_text.encode(),
        headers={**auth(admin), "Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["rejected"]) == (2, 1)
    assert result["rejections"][0]["row"] == 3
    assert result["rejections"][0]["reasons"][0]["name"] == "startDate"
    first = (await client.get("/staff/700001", headers=auth(admin))).json()
    assert first["familyName"] == "ap Gruffudd, Llŷr"
    assert first["jobTitle"] == "Nurse, Ward 7\r\nNights"
    assert first["startDate"] == "2019-04-01"
    second = (await client.get("/staff/700002", headers=auth(admin))).json()
    assert (second["familyName"], second["boardMember"]) == ("O'Brien", True)


async def test_csv_sent_as_octet_stream_is_read_as_csv(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """What generated clients send (openapi-python-client cannot send text/csv)."""
    response = await client.post(
        "/staffBatches?mode=upsert&organisation=7A4",
        content=b"employeeNumber,givenName,familyName,staffGroup,startDate\r\n"
        b"700011,Siw,Morgan,03,01/04/2019\r\n",
        headers={**auth(admin), "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    stored = (await client.get("/staff/700011", headers=auth(admin))).json()
    assert (stored["familyName"], stored["startDate"]) == ("Morgan", "2019-04-01")


async def test_csv_with_unknown_column_is_422_naming_it(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/staffBatches?mode=upsert&organisation=7A4",
        content=b"employeeNumber,givenName,familyName,staffGroup,startDate,shoeSize\n",
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "shoeSize"


async def test_unsupported_media_type_is_415(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/staffBatches",
        content=b"<xml/>",
        headers={**auth(admin), "Content-Type": "application/xml"},
    )
    assert response.status_code == 415


async def test_an_overlong_employee_number_is_rejected_and_echoed_cut_short(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await post_batch(client, admin, [batch_record("4" * 5000), batch_record("400001")])
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["rejected"]) == (1, 1)
    echoed = result["rejections"][0]["employeeNumber"]
    assert len(echoed) == 200 and echoed.startswith("4444") and echoed.endswith("…")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"mode": "upsert", "records": [', 400),
        (b'{"mode": "upsert", "records": "none"}', 422),
        (b'{"records": []}', 422),
        (b"[]", 422),
    ],
)
async def test_a_body_that_is_not_a_batch_is_refused_with_a_problem(
    client: httpx.AsyncClient, admin: dict[str, str], body: bytes, status: int
) -> None:
    response = await client.post(
        "/staffBatches",
        content=body,
        headers={**auth(admin), "content-type": "application/json"},
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_batch_is_worked_out_with_collections_paused_and_resumes_them(
    client: httpx.AsyncClient, admin: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = collector_enabled_during(monkeypatch, batches, "validate_batch_records")
    response = await post_batch(client, admin, [batch_record("400100")])
    assert response.status_code == 200, response.text
    assert seen == [False]
    assert gc.isenabled()
