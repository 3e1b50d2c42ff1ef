"""xAPI statements in the shapes the specification's own examples use."""

import copy
from typing import Any

import httpx
import pytest

from tests.completions.factories import count_completions, count_events
from tests.completions.xapi_examples import (
    ACCOUNT,
    MBOX,
    SHA1,
    V,
    only_completion,
    send,
    statement,
)
from tests.conftest import auth
from tests.staff.factories import person


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
