from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.completions.conftest import AwardCalls
from tests.completions.factories import (
    completion,
    count_completions,
    count_events,
    events_of,
    post,
)
from tests.conftest import ClientFactory, auth
from tests.staff.factories import person
from tests.statements import statements_run


async def test_a_completion_for_a_known_person_is_201_matched_with_location(
    client: httpx.AsyncClient, app: object, admin: dict[str, str], platform: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person("100001"), headers=auth(admin))
    response = await post(client, platform, completion())
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"http://testserver/completions/{body['id']}"
    assert body["matchStatus"] == "matched"
    assert body["matchedEmployeeNumber"] == "100001"
    assert body["source"] == platform["client_id"]
    assert (body["channel"], body["status"]) == ("api", "recorded")
    assert (body["passed"], body["scoreScaled"]) == (True, 0.9)
    fetched = await client.get(response.headers["location"], headers=auth(platform))
    assert fetched.json() == body
    [event] = await events_of(app, "completionRecorded")
    assert (event.resource_id, event.organisation_ods_code) == (str(body["id"]), "7A4")
    assert event.data["matchStatus"] == "matched"
    assert event.data["employeeNumber"] == "100001"


async def test_matching_by_work_email_ignores_case(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    await client.put(
        "/staff/100001", json=person(workEmail="Sian.Llyr@wales.nhs.uk"), headers=auth(admin)
    )
    body = completion(number=None, workEmail="SIAN.LLYR@WALES.NHS.UK")
    response = await post(client, platform, body)
    assert response.status_code == 201
    assert response.json()["matchedEmployeeNumber"] == "100001"


async def test_an_unknown_person_is_kept_unmatched_with_a_reason(
    client: httpx.AsyncClient, app: object, platform: dict[str, str]
) -> None:
    response = await post(client, platform, completion(number="999999"))
    assert response.status_code == 201
    body = response.json()
    assert body["matchStatus"] == "unmatched"
    assert body["matchedEmployeeNumber"] is None
    assert "employee number" in body["matchReason"]
    listed = await client.get("/completions?matchStatus=unmatched", headers=auth(platform))
    assert [c["id"] for c in listed.json()["data"]] == [body["id"]]
    [event] = await events_of(app, "completionRecorded")
    assert event.organisation_ods_code is None
    assert event.data["matchStatus"] == "unmatched"


async def test_an_email_several_staff_share_stays_unmatched_saying_so(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    for number in ("100001", "100002"):
        await client.put(
            f"/staff/{number}",
            json=person(number, workEmail="ward7@wales.nhs.uk"),
            headers=auth(admin),
        )
    response = await post(client, platform, completion(number=None, workEmail="ward7@wales.nhs.uk"))
    assert response.json()["matchStatus"] == "unmatched"
    assert "More than one staff member" in response.json()["matchReason"]


async def test_identical_repeat_is_200_with_the_same_completion_and_writes_nothing(
    client: httpx.AsyncClient,
    app: object,
    admin: dict[str, str],
    platform: dict[str, str],
    award_calls: AwardCalls,
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    first = await post(client, platform, completion())
    # The same instant written with another offset is the same completion.
    again = await post(client, platform, completion(completedAt="2026-01-15T11:30:00+01:00"))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert "location" not in again.headers
    assert await count_completions(app) == 1
    assert await count_events(app, "completionRecorded") == 1
    assert len(award_calls.calls) == 1


async def test_same_external_id_from_another_platform_is_another_completion(
    client: httpx.AsyncClient, app: object, platform: dict[str, str], make_client: ClientFactory
) -> None:
    other = await make_client(scopes=["completions:write"], name="Totara")
    assert (await post(client, platform, completion())).status_code == 201
    assert (await post(client, other, completion())).status_code == 201
    assert await count_completions(app) == 2


async def test_same_external_id_with_other_content_is_409_naming_the_fields(
    client: httpx.AsyncClient, app: object, platform: dict[str, str]
) -> None:
    first = await post(client, platform, completion())
    response = await post(client, platform, completion(passed=False, scoreScaled=0.4))
    assert response.status_code == 409
    problem = response.json()
    assert {p["name"] for p in problem["invalidParams"]} == {"passed", "scoreScaled"}
    assert problem["completionId"] == first.json()["id"]
    assert await count_completions(app) == 1


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"courseCode": "IQT-GOLD"}, {"courseCode"}),
        ({"scoreScaled": 1.2}, {"scoreScaled"}),
        ({"scoreScaled": -0.1}, {"scoreScaled"}),
        ({"employeeNumber": None}, {"employeeNumber", "workEmail"}),
        ({"completedAt": "2026-01-15T10:30:00"}, {"completedAt"}),
        ({"workEmail": "not-an-email"}, {"workEmail"}),
        ({"externalId": ""}, {"externalId"}),
        ({"grade": "A"}, {"grade"}),
    ],
)
async def test_refusals_are_422_naming_the_field(
    client: httpx.AsyncClient,
    app: object,
    platform: dict[str, str],
    change: dict[str, object],
    fields: set[str],
) -> None:
    body = {k: v for k, v in {**completion(), **change}.items() if v is not None}
    response = await post(client, platform, body)
    assert response.status_code == 422, response.text
    assert {p["name"] for p in response.json()["invalidParams"]} == fields
    assert await count_completions(app) == 0


async def test_completed_at_more_than_five_minutes_ahead_is_refused(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    ahead = (now + timedelta(minutes=4)).isoformat()
    too_far = (now + timedelta(minutes=6)).isoformat()
    accepted = await post(client, platform, completion("a", completedAt=ahead))
    assert accepted.status_code == 201
    refused = await post(client, platform, completion("b", completedAt=too_far))
    assert refused.status_code == 422
    assert refused.json()["invalidParams"][0]["name"] == "completedAt"


async def test_recording_for_a_matched_person_calls_the_award_hook(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    platform: dict[str, str],
    award_calls: AwardCalls,
) -> None:
    staff = (await client.put("/staff/100001", json=person(), headers=auth(admin))).json()
    await post(client, platform, completion(number="999999"))
    assert award_calls.calls == []  # nobody to evaluate
    await post(client, platform, completion("cc-2"))
    assert len(award_calls.calls) == 1
    assert staff["employeeNumber"] == "100001"


async def test_recording_needs_completions_write(
    client: httpx.AsyncClient, make_client: ClientFactory, admin: dict[str, str]
) -> None:
    reader = await make_client(scopes=["completions:read"])
    assert (await post(client, reader, completion())).status_code == 403


async def test_writes_are_audited(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    created = (await post(client, platform, completion())).json()
    await post(client, platform, completion(courseCode="NOPE"))
    records = (
        await client.get("/auditRecords?resourceType=completion", headers=auth(admin))
    ).json()["data"]
    outcomes = [(r["action"], r["resourceId"], r["outcome"]) for r in records]
    assert outcomes == [("create", str(created["id"]), "success"), ("create", None, "failure")]


async def test_completed_at_is_answered_in_utc_as_it_is_stored(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    sent = await post(client, platform, completion(completedAt="2026-07-01T09:00:00+01:00"))
    assert sent.json()["completedAt"] == "2026-07-01T08:00:00Z"
    fetched = await client.get(sent.headers["location"], headers=auth(platform))
    assert fetched.json() == sent.json()


@pytest.mark.usefixtures("no_award_evaluation")
async def test_one_completion_takes_six_statements(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    """Token client, course, person, the completion, its event, the audit record."""
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    with statements_run(app) as run:
        response = await post(client, platform, completion())
    statements = [sql for sql, _ in run]
    assert response.status_code == 201
    # The rate limiter folds its counts after the response, in a transaction of its own.
    request_statements = [
        s
        for s in statements
        if not s.startswith(("BEGIN", "COMMIT")) and "rate_limit_windows" not in s
    ]
    assert len(request_statements) == 6, statements
