"""Unmatched completions become matched when HR sends the person (the staff identity hook)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import matching
from app.completions.records import completion_row
from app.completions.schemas import Channel
from tests.completions.conftest import AwardCalls
from tests.completions.factories import completion, count_events, events_of, post
from tests.conftest import auth
from tests.staff.factories import batch_record, person
from tests.statements import statements_run


async def _get(client: httpx.AsyncClient, creds: dict[str, str], completion_id: int) -> Any:
    return (await client.get(f"/completions/{completion_id}", headers=auth(creds))).json()


async def test_put_staff_matches_the_unmatched_completion_by_employee_number(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    award_calls: AwardCalls,
) -> None:
    kept = (await post(client, platform, completion(number="100001"))).json()
    assert kept["matchStatus"] == "unmatched"
    created = await client.put("/staff/100001", json=person(), headers=auth(admin))
    assert created.status_code == 201
    matched = await _get(client, platform, kept["id"])
    assert matched["matchStatus"] == "matched"
    assert matched["matchedEmployeeNumber"] == "100001"
    assert matched["matchReason"] is None
    assert matched["matchedAt"] is not None
    [event_row] = await events_of(app, "completionMatched")
    assert (event_row.resource_id, event_row.organisation_ods_code) == (str(kept["id"]), "7A4")
    assert event_row.data == {"employeeNumber": "100001", "courseCode": "IQT-BRONZE"}
    assert len(award_calls.calls) == 1
    unmatched = await client.get("/completions?matchStatus=unmatched", headers=auth(platform))
    assert unmatched.json()["data"] == []


async def test_put_staff_matches_by_work_email_whatever_its_case(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    kept = (
        await post(client, platform, completion(number=None, workEmail="SIAN.LLYR@wales.nhs.uk"))
    ).json()
    await client.put(
        "/staff/100001", json=person(workEmail="sian.llyr@WALES.nhs.uk"), headers=auth(admin)
    )
    assert (await _get(client, platform, kept["id"]))["matchedEmployeeNumber"] == "100001"


async def test_an_employee_number_of_someone_else_is_not_matched_by_email(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    """By employee number, else e-mail: the e-mail decides only when the number is nobody's."""
    await client.put("/staff/100002", json=person("100002"), headers=auth(admin))
    body = completion(number="100002", workEmail="person100009@wales.nhs.uk")
    sent = (await post(client, platform, body)).json()
    assert sent["matchedEmployeeNumber"] == "100002"
    kept = (
        await post(
            client, platform, completion("cc-2", number="100008", workEmail="x@wales.nhs.uk")
        )
    ).json()
    await client.put(
        "/staff/100009", json=person("100009", workEmail="x@wales.nhs.uk"), headers=auth(admin)
    )
    assert (await _get(client, platform, kept["id"]))["matchedEmployeeNumber"] == "100009"


async def test_an_ambiguous_email_stays_unmatched_with_a_reason(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    kept = (
        await post(client, platform, completion(number=None, workEmail="w7@wales.nhs.uk"))
    ).json()
    records = [batch_record(n, workEmail="w7@wales.nhs.uk") for n in ("100001", "100002")]
    body = {"mode": "upsert", "organisation": "7A4", "records": records}
    assert (await client.post("/staffBatches", json=body, headers=auth(admin))).status_code == 200
    after = await _get(client, platform, kept["id"])
    assert after["matchStatus"] == "unmatched"
    assert after["matchReason"].startswith("More than one staff member")
    assert await count_events(app, "completionMatched") == 0


async def test_an_ambiguous_email_is_matched_once_one_of_its_owners_moves_away(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    kept = (
        await post(client, platform, completion(number=None, workEmail="W8@wales.nhs.uk"))
    ).json()
    records = [batch_record(n, workEmail="w8@wales.nhs.uk") for n in ("100001", "100002")]
    body = {"mode": "upsert", "organisation": "7A4", "records": records}
    assert (await client.post("/staffBatches", json=body, headers=auth(admin))).status_code == 200
    assert (await _get(client, platform, kept["id"]))["matchStatus"] == "unmatched"

    moved = await client.patch(
        "/staff/100001", json={"workEmail": "elsewhere@wales.nhs.uk"}, headers=auth(admin)
    )
    assert moved.status_code == 200
    after = await _get(client, platform, kept["id"])
    assert (after["matchStatus"], after["matchedEmployeeNumber"]) == ("matched", "100002")
    assert after["matchReason"] is None
    [event_row] = await events_of(app, "completionMatched")
    assert event_row.data["employeeNumber"] == "100002"


async def test_patching_the_work_email_matches(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(workEmail=None), headers=auth(admin))
    kept = (
        await post(client, platform, completion(number=None, workEmail="new@wales.nhs.uk"))
    ).json()
    assert kept["matchStatus"] == "unmatched"
    patched = await client.patch(
        "/staff/100001", json={"workEmail": "New@wales.nhs.uk"}, headers=auth(admin)
    )
    assert patched.status_code == 200
    assert (await _get(client, platform, kept["id"]))["matchedEmployeeNumber"] == "100001"


async def test_a_retracted_completion_is_not_matched(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    kept = (await post(client, platform, completion())).json()
    await client.delete(f"/completions/{kept['id']}?reason=error", headers=auth(platform))
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    assert (await _get(client, platform, kept["id"]))["matchStatus"] == "unmatched"
    assert await count_events(app, "completionMatched") == 0


@pytest.mark.parametrize("people", [3, 30])
@pytest.mark.usefixtures("no_award_evaluation")
async def test_a_staff_batch_matches_with_the_same_statements_whatever_its_size(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    people: int,
) -> None:
    """Set-based: the hook runs a fixed number of statements for the whole list of people."""
    numbers = [f"2{i:05d}" for i in range(people)]
    records = [completion(f"cc-{n}", number=n) for n in numbers[: people // 2]]
    records += [
        completion(f"cc-{n}", number=None, workEmail=f"person{n}@wales.nhs.uk")
        for n in numbers[people // 2 :]
    ]
    batch = await client.post(
        "/completionBatches", json={"records": records}, headers=auth(platform)
    )
    assert batch.json()["unmatched"] == people
    with statements_run(app) as run:
        body = {
            "mode": "upsert",
            "organisation": "7A4",
            "records": [batch_record(n) for n in numbers],
        }
        response = await client.post("/staffBatches", json=body, headers=auth(admin))
    statements = [sql for sql, _ in run]
    assert response.json()["created"] == people
    assert await count_events(app, "completionMatched") == people
    assert len([s for s in statements if "completions" in s]) <= 8


async def _shared_email_completion(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    platform: dict[str, str],
    email: str,
    completed_at: str = "2026-01-15T10:30:00Z",
) -> int:
    """A completion sent with a work e-mail that 100001 and 100002 both have: held back."""
    records = [batch_record(n, workEmail=email) for n in ("100001", "100002")]
    body = {"mode": "upsert", "organisation": "7A4", "records": records}
    assert (await client.post("/staffBatches", json=body, headers=auth(admin))).status_code == 200
    sent = completion(number=None, workEmail=email, completedAt=completed_at)
    kept = (await post(client, platform, sent)).json()
    assert kept["matchReason"].startswith("More than one staff member"), kept
    return int(kept["id"])


async def test_an_ambiguous_email_is_matched_once_one_of_its_owners_is_found_to_have_left(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    """HR end-dates 100001 before the day of the completion: only 100002 could have done it."""
    kept = await _shared_email_completion(client, admin, platform, "w9@wales.nhs.uk")
    left = await client.patch("/staff/100001", json={"endDate": "2026-01-10"}, headers=auth(admin))
    assert left.status_code == 200, left.text
    after = await _get(client, platform, kept)
    assert (after["matchStatus"], after["matchedEmployeeNumber"]) == ("matched", "100002")
    [event_row] = await events_of(app, "completionMatched")
    assert event_row.data["employeeNumber"] == "100002"


async def test_an_owner_who_left_after_the_completion_still_makes_it_ambiguous(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    kept = await _shared_email_completion(client, admin, platform, "w10@wales.nhs.uk")
    left = await client.patch("/staff/100001", json={"endDate": "2026-01-20"}, headers=auth(admin))
    assert left.status_code == 200, left.text
    assert (await _get(client, platform, kept))["matchStatus"] == "unmatched"
    assert await count_events(app, "completionMatched") == 0


async def test_a_full_snapshot_that_ends_an_owner_matches_a_completion_of_today(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    """The snapshot end-dates 100001 yesterday; a completion of today was not theirs."""
    today = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    kept = await _shared_email_completion(
        client, admin, platform, "w11@wales.nhs.uk", today.isoformat()
    )
    only = [batch_record("100002", workEmail="w11@wales.nhs.uk")]
    body = {"mode": "fullSnapshot", "organisation": "7A4", "records": only}
    snapshot = await client.post(
        "/staffBatches?allowMassLeavers=true", json=body, headers=auth(admin)
    )
    assert snapshot.json()["endDated"] == 1, snapshot.text
    after = await _get(client, platform, kept)
    assert (after["matchStatus"], after["matchedEmployeeNumber"]) == ("matched", "100002")


async def test_an_email_whose_only_other_owner_had_left_is_matched_when_recorded(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    """Recording and re-checking apply the same rule: a leaver's old e-mail given on."""
    records = [
        batch_record("100001", workEmail="w12@wales.nhs.uk", endDate="2025-12-31"),
        batch_record("100002", workEmail="w12@wales.nhs.uk"),
    ]
    body = {"mode": "upsert", "organisation": "7A4", "records": records}
    assert (await client.post("/staffBatches", json=body, headers=auth(admin))).status_code == 200
    sent = await post(client, platform, completion(number=None, workEmail="w12@wales.nhs.uk"))
    assert (sent.json()["matchStatus"], sent.json()["matchedEmployeeNumber"]) == (
        "matched",
        "100002",
    )


async def test_identifying_completions_answers_who_is_sent_with_them(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    """``identify`` says whom each row names, as its ``Identification``, in the rows' order."""
    created = await client.put("/staff/100001", json=person(), headers=auth(admin))
    assert created.status_code == 201
    rows = [
        completion_row(
            client_id="c", external_id=f"x-{number}", channel=Channel.API, course_id=1,
            course_code="IQT-BRONZE", employee_number=number, work_email=None, email_sha1=None,
            completed_at=datetime(2026, 1, 5, tzinfo=UTC), passed=True, score_scaled=None,
            now=datetime(2026, 1, 6, tzinfo=UTC),
        )
        for number in ("100001", "999999")
    ]  # fmt: skip
    caller = Caller(client_id="c", scopes=frozenset(), organisations=None, request_id="r")
    found, nobody = await matching.identify(session, caller, rows)
    assert (found.match_status, found.matched_employee_number, found.organisation) == (
        "matched",
        "100001",
        "7A4",
    )
    assert found.staff_id is not None and found.matched_at is not None
    assert (nobody.match_status, nobody.staff_id, nobody.matched_at) == ("unmatched", None, None)
    assert nobody.match_reason
