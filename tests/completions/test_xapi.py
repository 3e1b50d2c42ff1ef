"""xAPI statements in the shapes the specification's own examples use."""

import copy
import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.models import ApiClient
from tests.completions.factories import (
    BRONZE_ACTIVITY,
    COMPLETION_SCOPES,
    count_completions,
    count_events,
)
from tests.conftest import ClientFactory, auth
from tests.staff.factories import person

HOME_PAGE = "http://www.example.com"
V = {"X-Experience-API-Version": "1.0.3"}


def statement(who: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Shaped like the specification's "Completion" example (Appendix A), on our activity."""
    body: dict[str, Any] = {
        "id": "7ccd3322-e1a5-411a-a67d-6a735c76f119",
        "timestamp": "2015-12-18T12:17:00+00:00",
        "actor": {"objectType": "Agent", "name": "Example Learner", **who},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/completed",
            "display": {"en-US": "completed"},
        },
        "object": {
            "id": BRONZE_ACTIVITY,
            "definition": {
                "name": {"en-US": "simple CBT course"},
                "description": {"en-US": "A fictitious example CBT course."},
            },
        },
        "result": {
            "score": {"scaled": 0.95},
            "success": True,
            "completion": True,
            "duration": "PT1234S",
        },
    }
    body.update(overrides)
    return body


ACCOUNT = {"account": {"homePage": HOME_PAGE, "name": "13936749"}}
MBOX = {"mbox": "mailto:example.learner@adlnet.gov"}
SHA1 = {"mbox_sha1sum": hashlib.sha1(b"mailto:example.learner@adlnet.gov").hexdigest()}  # noqa: S324


@pytest.fixture
async def lms(admin: dict[str, str], app: Any, make_client: ClientFactory) -> dict[str, str]:
    creds = await make_client(scopes=COMPLETION_SCOPES, name="LMS")
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == creds["client_id"])
            .values(xapi_account_home_page=HOME_PAGE)
        )
        await session.commit()
    return creds


@pytest.fixture
async def learner(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    body = person("13936749", workEmail="Example.Learner@adlnet.gov")
    response = await client.put("/staff/13936749", json=body, headers=auth(admin))
    assert response.status_code == 201
    return dict(response.json())


async def send(
    client: httpx.AsyncClient, creds: dict[str, str], body: Any, **headers: str
) -> httpx.Response:
    return await client.post("/xapi/statements", json=body, headers={**auth(creds), **V, **headers})


async def only_completion(client: httpx.AsyncClient, creds: dict[str, str]) -> dict[str, Any]:
    [found] = (await client.get("/completions", headers=auth(creds))).json()["data"]
    return dict(found)


@pytest.mark.parametrize("actor", [ACCOUNT, MBOX, SHA1], ids=["account", "mbox", "mbox_sha1sum"])
async def test_a_completed_statement_becomes_a_matched_completion(
    client: httpx.AsyncClient,
    lms: dict[str, str],
    learner: dict[str, Any],
    actor: dict[str, Any],
) -> None:
    response = await send(client, lms, statement(actor))
    assert response.status_code == 200, response.text
    assert response.json() == ["7ccd3322-e1a5-411a-a67d-6a735c76f119"]
    assert response.headers["x-experience-api-version"] == "1.0.3"
    stored = await only_completion(client, lms)
    assert stored["externalId"] == "7ccd3322-e1a5-411a-a67d-6a735c76f119"
    assert (stored["channel"], stored["matchStatus"]) == ("xapi", "matched")
    assert stored["matchedEmployeeNumber"] == "13936749"
    assert (stored["courseCode"], stored["passed"], stored["scoreScaled"]) == (
        "IQT-BRONZE",
        True,
        0.95,
    )
    assert stored["completedAt"] == "2015-12-18T12:17:00Z"


async def test_an_mbox_sha1sum_actor_is_matched_when_hr_sends_the_person(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], lms: dict[str, str]
) -> None:
    await send(client, lms, statement(SHA1))
    assert (await only_completion(client, lms))["matchStatus"] == "unmatched"
    body = person("13936749", workEmail="example.learner@ADLNET.gov")
    await client.put("/staff/13936749", json=body, headers=auth(admin))
    assert (await only_completion(client, lms))["matchedEmployeeNumber"] == "13936749"
    assert await count_events(app, "completionMatched") == 1


@pytest.mark.parametrize(
    ("verb", "result", "passed"),
    [
        ("passed", {"score": {"scaled": 0.8}}, True),
        ("failed", {"score": {"scaled": 0.3}}, False),
        ("completed", {}, None),
        ("failed", {"success": True}, True),  # result.success says it
    ],
)
async def test_verbs_and_result_success_say_whether_it_was_passed(
    client: httpx.AsyncClient,
    lms: dict[str, str],
    learner: dict[str, Any],
    verb: str,
    result: dict[str, Any],
    passed: bool | None,
) -> None:
    body = statement(
        ACCOUNT,
        verb={"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        result=result,
    )
    assert (await send(client, lms, body)).status_code == 200
    assert (await only_completion(client, lms))["passed"] is passed


@pytest.mark.parametrize(
    "change",
    [
        {"verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"}},
        {"object": {"id": "http://example.adlnet.gov/xapi/example/simpleCBT"}},
        {"result": {"completion": False}},
        {"object": {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"}},
        {"actor": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}},
    ],
    ids=["other verb", "other activity", "not completed", "statement ref", "group"],
)
async def test_other_statements_are_acknowledged_and_not_stored(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], change: dict[str, Any]
) -> None:
    response = await send(client, lms, statement(ACCOUNT, **change))
    assert response.status_code == 200
    assert response.json() == ["7ccd3322-e1a5-411a-a67d-6a735c76f119"]
    assert await count_completions(app) == 0


async def test_a_repeated_statement_id_is_stored_once(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], learner: dict[str, Any]
) -> None:
    first = statement(ACCOUNT)
    # The same statement as an LRS may hand it on: other display, definition, stored, version.
    again = copy.deepcopy(first)
    again["verb"]["display"] = {"en-GB": "completed"}
    again["object"]["definition"] = {"name": {"en-GB": "IQT Bronze"}}
    again["timestamp"] = "2015-12-18T13:17:00+01:00"
    again.update(stored="2015-12-18T12:18:00Z", version="1.0.0")
    for body in (first, again, [again]):
        assert (await send(client, lms, body)).status_code == 200
    assert await count_completions(app) == 1
    assert await count_events(app, "completionRecorded") == 1


async def test_a_repeated_statement_id_with_other_content_is_409_and_stores_nothing(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], learner: dict[str, Any]
) -> None:
    await send(client, lms, statement(ACCOUNT))
    other = statement(ACCOUNT, result={"score": {"scaled": 0.5}, "success": False})
    new = statement(ACCOUNT, id="fd41c918-b88b-4b20-a0a5-a4c32391aaa0")
    response = await send(client, lms, [new, other])
    assert response.status_code == 409
    assert response.headers["x-experience-api-version"] == "1.0.3"
    assert await count_completions(app) == 1  # the array is stored all or none


async def test_an_array_answers_ids_in_order_and_assigns_missing_ones(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], learner: dict[str, Any]
) -> None:
    without_id = statement(MBOX)
    del without_id["id"]
    body = [statement(ACCOUNT), without_id]
    response = await send(client, lms, body, **{"X-Experience-API-Version": "2.0.0"})
    assert response.status_code == 200
    ids = response.json()
    assert ids[0] == "7ccd3322-e1a5-411a-a67d-6a735c76f119"
    assert len(ids[1]) == 36 and ids[1] != ids[0]
    assert response.headers["x-experience-api-version"] == "2.0.0"
    assert await count_completions(app) == 2


async def test_put_stores_under_the_statement_id_and_answers_204(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], learner: dict[str, Any]
) -> None:
    body = statement(ACCOUNT)
    del body["id"]
    url = "/xapi/statements?statementId=7ccd3322-e1a5-411a-a67d-6a735c76f119"
    for _ in range(2):
        response = await client.put(url, json=body, headers={**auth(lms), **V})
        assert response.status_code == 204
        assert response.content == b""
    changed = {**body, "result": {"success": False}}
    conflict = await client.put(url, json=changed, headers={**auth(lms), **V})
    assert conflict.status_code == 409
    assert (await only_completion(client, lms))["externalId"] == url.rsplit("=", 1)[1]


async def test_put_refuses_a_body_id_other_than_the_statement_id(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    url = "/xapi/statements?statementId=fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
    response = await client.put(url, json=statement(ACCOUNT), headers={**auth(lms), **V})
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "id"
    missing = await client.put(
        "/xapi/statements", json=statement(ACCOUNT), headers={**auth(lms), **V}
    )
    assert missing.status_code == 400
    assert missing.json()["invalidParams"][0]["name"] == "statementId"


@pytest.mark.parametrize("version", [None, "0.95", "3.0.0", "1.1.0"])
async def test_the_version_header_is_required(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], version: str | None
) -> None:
    headers = auth(lms) | ({"X-Experience-API-Version": version} if version else {})
    response = await client.post("/xapi/statements", json=statement(ACCOUNT), headers=headers)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "X-Experience-API-Version"
    assert await count_completions(app) == 0


def _broken(path: str, value: Any) -> dict[str, Any]:
    body = statement(MBOX)
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target[name]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.mark.parametrize(
    ("body", "name"),
    [
        (_broken("verb", KeyError), "verb"),
        (_broken("verb.id", "completed"), "verb.id"),
        (_broken("actor.mbox", "example.learner@adlnet.gov"), "actor.mbox"),
        (_broken("actor.openid", "http://toby.openid.example.org/"), "actor"),
        (
            _broken("actor.mbox", KeyError) | {"actor": {"mbox_sha1sum": "xyz"}},
            "actor.mbox_sha1sum",
        ),
        (_broken("result.score.scaled", "0.95"), "result.score.scaled"),
        (_broken("result.score.scaled", 1.5), "result.score.scaled"),
        (_broken("result.success", "true"), "result.success"),
        (_broken("id", "not-a-uuid"), "id"),
        (_broken("timestamp", "yesterday"), "timestamp"),
        (_broken("context", None), "context"),
        (_broken("result.response", None), "result.response"),
        (_broken("mood", "happy"), "mood"),
    ],
)
async def test_a_malformed_statement_is_400_naming_the_property(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], body: dict[str, Any], name: str
) -> None:
    response = await send(client, lms, body)
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == name
    assert response.headers["x-experience-api-version"] == "1.0.3"
    assert await count_completions(app) == 0


async def test_in_an_array_the_statement_is_named_by_its_position(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    second = _broken("verb.id", "completed")
    second["id"] = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"
    response = await send(client, lms, [statement(MBOX), second])
    assert response.json()["invalidParams"][0]["name"] == "1.verb.id"


async def test_the_same_id_twice_in_one_array_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    response = await send(client, lms, [statement(MBOX), statement(MBOX)])
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "1.id"


async def test_an_account_on_another_home_page_is_refused(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], platform: dict[str, str]
) -> None:
    other = {"account": {"homePage": "http://cloud.scorm.com/", "name": "13936749"}}
    response = await send(client, lms, statement(other))
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "actor.account.homePage"
    # A client with no homePage configured cannot use accounts at all.
    response = await send(client, platform, statement(ACCOUNT))
    assert response.json()["invalidParams"][0]["name"] == "actor.account.homePage"
    assert await count_completions(app) == 0


async def test_a_negative_scaled_score_on_a_course_is_refused(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    body = statement(ACCOUNT, result={"score": {"scaled": -0.2}})
    response = await send(client, lms, body)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "result.score.scaled"


async def test_another_media_type_is_415(client: httpx.AsyncClient, lms: dict[str, str]) -> None:
    response = await client.post(
        "/xapi/statements", content=b"x", headers={**auth(lms), **V, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
