"""Limits at the edge, never a 500: NUL characters and unpaired surrogates in text, dates
outside the plausible range, deep JSON, long CSV cells, long URLs and large headers."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.core.clock import set_clock_skew
from app.core.settings import Settings
from app.main import create_app
from tests.completions.factories import BRONZE, BRONZE_ACTIVITY, completion
from tests.completions.xapi_examples import MBOX, V, statement
from tests.conftest import ClientFactory, auth
from tests.projects.factories import project, seed_people
from tests.staff.factories import batch_record, person

NUL = "Zo\u0000e"
LONE_SURROGATE = "Zo\ud800e"
BRONZE_COURSE = {
    "title": "Improving Quality Together: Bronze",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
    "xapiActivityIds": [BRONZE_ACTIVITY],
}
LEGACY = {
    "employeeNumber": "100001",
    "level": "bronze",
    "grantedAt": "2019-06-30T00:00:00Z",
    "reference": "IQT Bronze register 2019, row 1182",
}


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    """Every scope; organisations 7A4 and 7A6, a team's worth of staff (100001 among them)
    and the Bronze course."""
    creds = await make_client(name="admin")
    await seed_people(client, creds)
    response = await client.put(f"/courses/{BRONZE}", json=BRONZE_COURSE, headers=auth(creds))
    assert response.status_code == 201, response.text
    return creds


async def send(
    client: httpx.AsyncClient, method: str, url: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    """JSON with every non-ASCII character escaped, as a client may send a lone surrogate."""
    content = json.dumps(body).encode()
    headers = {**headers, "Content-Type": "application/json"}
    return await client.request(method, url, content=content, headers=headers)


def assert_names(response: httpx.Response, status: int, name: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert name in [param["name"] for param in response.json()["invalidParams"]], response.text


def first_rejection(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["rejected"] == 1, result
    return dict(result["rejections"][0])


@pytest.mark.parametrize("text", [NUL, LONE_SURROGATE], ids=["nul", "lone-surrogate"])
@pytest.mark.parametrize(
    ("method", "url", "body", "name"),
    [
        ("PUT", "/staff/500001", person(givenName="{text}"), "givenName"),
        ("PUT", "/staff/500001", person(jobTitle="{text}"), "jobTitle"),
        ("POST", "/completions", completion(externalId="{text}"), "externalId"),
        ("PUT", "/organisations/7A4", {"name": "{text}", "type": "healthBoard"}, "name"),
        ("POST", "/improvementProjects", project(title="{text}"), "title"),
        (
            "PUT",
            "/boardMeetings/7A4-2026-11-05",
            {"organisation": "7A4", "meetingDate": "2026-11-05", "agendaReference": "{text}"},
            "agendaReference",
        ),
        ("POST", "/awards", {**LEGACY, "reference": "{text}"}, "reference"),
    ],
)
async def test_unstorable_text_in_a_body_is_422_naming_the_field(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    method: str,
    url: str,
    body: dict[str, Any],
    name: str,
    text: str,
) -> None:
    filled = json.loads(json.dumps(body).replace('"{text}"', json.dumps(text)))
    assert_names(await send(client, method, url, filled, auth(admin)), 422, name)


async def test_nul_rejects_its_record_in_json_batches(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    records = [batch_record("500001"), batch_record("500002", familyName=NUL)]
    body = {"mode": "upsert", "records": records}
    staff = await send(client, "POST", "/staffBatches", body, auth(admin))
    assert first_rejection(staff)["reasons"][0]["name"] == "familyName"
    assert staff.json()["created"] == 1
    records = [completion("ok"), completion(NUL)]
    completions = await send(
        client, "POST", "/completionBatches", {"records": records}, auth(admin)
    )
    assert first_rejection(completions)["reasons"][0]["name"] == "externalId"


async def test_a_lone_surrogate_in_a_json_batch_is_400(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    """The batch parser reads a lone surrogate escape as JSON that is not valid."""
    records = [batch_record("500001"), batch_record("500002", familyName=LONE_SURROGATE)]
    body = {"mode": "upsert", "records": records}
    staff = await send(client, "POST", "/staffBatches", body, auth(admin))
    assert staff.status_code == 400, staff.text
    assert "surrogate" in staff.json()["detail"] or "escape" in staff.json()["detail"]


async def test_nul_rejects_its_row_in_csv_batches(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    csv_text = (
        "employeeNumber,givenName,familyName,organisation,staffGroup,startDate\r\n"
        "500001,Siân,Llŷr,7A4,01,2019-04-01\r\n"
        f"500002,{NUL},Llŷr,7A4,01,2019-04-01\r\n"
    )
    staff = await client.post(
        "/staffBatches?mode=upsert",
        content=csv_text.encode(),
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    assert first_rejection(staff)["reasons"][0]["name"] == "givenName"
    csv_text = (
        "externalId,employeeNumber,courseCode,completedAt\r\n"
        f"m1,100001,{BRONZE},2026-01-15T10:30:00Z\r\n"
        f"m2,{NUL},{BRONZE},2026-01-15T10:30:00Z\r\n"
    )
    completions = await client.post(
        "/completionBatches",
        content=csv_text.encode(),
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    assert first_rejection(completions)["reasons"][0]["name"] == "employeeNumber"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/staff?organisation=7A%004", "organisation"),
        ("/completions?externalId=a%00b", "externalId"),
        ("/staff/1000%0001", "path"),
        ("/events?types=staffCreated%00", "types"),
    ],
)
async def test_nul_in_the_url_is_422_naming_the_parameter(
    client: httpx.AsyncClient, admin: dict[str, str], url: str, name: str
) -> None:
    assert_names(await client.get(url, headers=auth(admin)), 422, name)


async def test_nul_in_the_token_form_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    form = {"grant_type": "client_credentials", "client_id": NUL, "client_secret": "x"}
    assert_names(await client.post("/oauth2/token", data=form), 422, "client_id")
    basic = await client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(NUL, "x")
    )
    assert basic.status_code == 401
    assert basic.json()["error"] == "invalid_client"


async def test_unstorable_text_in_an_xapi_statement_is_400_naming_the_property(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for text in (NUL, LONE_SURROGATE):
        body = statement({**MBOX, "name": text})
        response = await send(client, "POST", "/xapi/statements", body, {**auth(admin), **V})
        assert_names(response, 400, "actor.name")


YEAR_ONE = "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("method", "url", "body", "name"),
    [
        ("POST", "/awards", {**LEGACY, "grantedAt": YEAR_ONE}, "grantedAt"),
        ("POST", "/awards", {**LEGACY, "grantedAt": "1948-07-04T23:59:59Z"}, "grantedAt"),
        ("POST", "/completions", completion(completedAt=YEAR_ONE), "completedAt"),
        (
            "POST",
            "/completions",
            completion(completedAt="0001-01-01T00:00:00+01:00"),
            "completedAt",
        ),
        ("PUT", "/staff/500001", person(startDate="1900-01-01"), "startDate"),
        ("PUT", "/staff/500001", person(endDate="9999-12-31"), "endDate"),
        (
            "PUT",
            "/boardMeetings/7A4-2026-11-05",
            {"organisation": "7A4", "meetingDate": "0001-01-01"},
            "meetingDate",
        ),
    ],
)
async def test_an_implausible_date_in_a_body_is_422_naming_the_field(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    method: str,
    url: str,
    body: dict[str, Any],
    name: str,
) -> None:
    assert_names(await send(client, method, url, body, auth(admin)), 422, name)


async def test_a_year_one_completion_is_refused_so_it_cannot_break_a_later_staff_put(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    unmatched = completion("early", number="600001", completedAt=YEAR_ONE)
    assert (
        await client.post("/completions", json=unmatched, headers=auth(admin))
    ).status_code == 422
    response = await client.put("/staff/600001", json=person("600001"), headers=auth(admin))
    assert response.status_code == 201, response.text


async def test_an_implausible_date_rejects_its_row_in_batches(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    csv_text = (
        "externalId,employeeNumber,courseCode,completedAt\r\n"
        f"m1,100001,{BRONZE},2026-01-15T10:30:00Z\r\n"
        f"m2,100001,{BRONZE},1800-01-15T10:30:00Z\r\n"
    )
    completions = await client.post(
        "/completionBatches",
        content=csv_text.encode(),
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    assert first_rejection(completions)["reasons"][0]["name"] == "completedAt"
    records = [batch_record("500001"), batch_record("500002", startDate="0001-01-01")]
    staff = await send(
        client, "POST", "/staffBatches", {"mode": "upsert", "records": records}, auth(admin)
    )
    assert first_rejection(staff)["reasons"][0]["name"] == "startDate"


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00+01:00", "1900-01-01T00:00:00Z"])
async def test_an_implausible_xapi_timestamp_is_400_naming_it(
    client: httpx.AsyncClient, admin: dict[str, str], timestamp: str
) -> None:
    body = statement(MBOX, timestamp=timestamp)
    response = await send(client, "POST", "/xapi/statements", body, {**auth(admin), **V})
    assert_names(response, 400, "timestamp")


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/uptake?asOf=0001-01-01", "asOf"),
        ("/completions?since=0001-01-01T00:00:00%2B01:00", "since"),
        ("/staff?updatedSince=9999-12-31T23:59:59-01:00", "updatedSince"),
    ],
)
async def test_an_implausible_date_in_a_query_is_422_naming_it(
    client: httpx.AsyncClient, admin: dict[str, str], url: str, name: str
) -> None:
    assert_names(await client.get(url, headers=auth(admin)), 422, name)


@pytest.fixture
def skew_of_an_hour(app: Any, settings: Settings) -> Iterator[None]:
    """IQT_CLOCK_SKEW_SECONDS=3600 (set by creating an app), put back afterwards."""
    skewed = create_app(settings.model_copy(update={"clock_skew_seconds": 3600}))
    yield
    del skewed
    set_clock_skew(settings.clock_skew_seconds)


async def test_the_clock_skew_allowance_is_a_setting(
    client: httpx.AsyncClient, admin: dict[str, str], skew_of_an_hour: None
) -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    later = (datetime.now(UTC) + timedelta(minutes=90)).isoformat()
    accepted = await client.post(
        "/completions", json=completion(completedAt=soon), headers=auth(admin)
    )
    assert accepted.status_code == 201, accepted.text
    body = completion("cc-2", completedAt=later)
    assert_names(
        await client.post("/completions", json=body, headers=auth(admin)), 422, "completedAt"
    )


async def test_the_default_clock_skew_allowance_is_five_minutes(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    later = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    body = {**LEGACY, "grantedAt": later}
    assert_names(await client.post("/awards", json=body, headers=auth(admin)), 422, "grantedAt")
    soon = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    body = completion(completedAt=soon)
    assert (await client.post("/completions", json=body, headers=auth(admin))).status_code == 201


@pytest.mark.parametrize("depth", [100, 10_000])
async def test_deep_json_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], depth: int
) -> None:
    deep = "[" * depth + "]" * depth
    response = await client.post(
        "/xapi/statements",
        content=f'{{"extensions": {deep}}}'.encode(),
        headers={**auth(admin), **V, "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_csv_cell_over_131072_characters_rejects_its_row_only(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    csv_text = (
        "employeeNumber,givenName,familyName,organisation,staffGroup,startDate,jobTitle\r\n"
        f"500001,Siân,Llŷr,7A4,01,2019-04-01,{'x' * 200_000}\r\n"
        "500002,Siân,Llŷr,7A4,01,2019-04-01,Staff Nurse\r\n"
    )
    response = await client.post(
        "/staffBatches?mode=upsert",
        content=csv_text.encode(),
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    rejection = first_rejection(response)
    assert (rejection["row"], rejection["reasons"][0]["name"]) == (1, "jobTitle")
    assert response.json()["created"] == 1


async def test_a_url_over_the_limit_is_414_and_one_within_it_answers_with_its_links(
    client: httpx.AsyncClient, admin: dict[str, str], settings: Settings
) -> None:
    url = "/organisations?pageSize=1&x="
    too_long = await client.get(url + "y" * settings.max_url_bytes, headers=auth(admin))
    assert too_long.status_code == 414
    assert too_long.headers["content-type"] == "application/problem+json"
    longest = url + "y" * (settings.max_url_bytes - len(url) - 1)
    response = await client.get(longest, headers=auth(admin))
    assert response.status_code == 200, response.text
    assert [link["rel"] for link in response.json()["links"]] == ["self", "next"]


async def test_request_headers_over_the_limit_are_431(
    client: httpx.AsyncClient, admin: dict[str, str], settings: Settings
) -> None:
    big = {**auth(admin), "X-Padding": "p" * settings.max_request_header_bytes}
    response = await client.get("/organisations", headers=big)
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    within = {**auth(admin), "X-Padding": "p" * (settings.max_request_header_bytes // 2)}
    assert (await client.get("/organisations", headers=within)).status_code == 200
