"""The xAPI Activities and Agents resources: an activity as the statements a client may read
define it, and an agent as a Person."""

import json
from typing import Any

import httpx

from tests.completions.factories import COMPLETION_SCOPES
from tests.completions.xapi_examples import MBOX, V, send, statement
from tests.conftest import ClientFactory, auth

ACTIVITY = "http://www.example.com/meetings/occurances/34534"


def meeting(statement_id: str, name: dict[str, str], **definition: Any) -> dict[str, Any]:
    target = {
        "objectType": "Activity",
        "id": ACTIVITY,
        "definition": {"name": name, "type": "http://adlnet.gov/expapi/activities/meeting"},
    }
    target["definition"].update(definition)
    return statement(MBOX, id=statement_id, object=target)


async def test_an_activity_gathers_its_definition_from_every_statement_naming_it(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    first = meeting("00000000-0000-4000-8000-000000000001", {"en-US": "example meeting"})
    second = meeting(
        "00000000-0000-4000-8000-000000000002",
        {"fr-FR": "réunion"},
        moreInfo="http://virtualmeeting.example.com/345256",
    )
    assert (await send(client, lms, [first, second])).status_code == 200
    response = await client.get(
        "/xapi/activities", params={"activityId": ACTIVITY}, headers={**auth(lms), **V}
    )
    assert response.status_code == 200
    assert response.json() == {
        "objectType": "Activity",
        "id": ACTIVITY,
        "definition": {
            "name": {"en-US": "example meeting", "fr-FR": "réunion"},
            "type": "http://adlnet.gov/expapi/activities/meeting",
            "moreInfo": "http://virtualmeeting.example.com/345256",
        },
    }
    head = await client.head(
        "/xapi/activities", params={"activityId": ACTIVITY}, headers={**auth(lms), **V}
    )
    assert head.status_code == 200
    assert head.content == b""


async def test_an_unknown_activity_is_its_id_and_a_missing_one_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    unknown = await client.get(
        "/xapi/activities",
        params={"activityId": "http://example.com/x"},
        headers={**auth(lms), **V},
    )
    assert unknown.json() == {"objectType": "Activity", "id": "http://example.com/x"}
    missing = await client.get("/xapi/activities", headers={**auth(lms), **V})
    assert missing.status_code == 400
    assert missing.json()["invalidParams"][0]["name"] == "activityId"


async def test_another_client_does_not_see_the_definitions_of_statements_it_cannot_read(
    client: httpx.AsyncClient, lms: dict[str, str], make_client: ClientFactory
) -> None:
    outsider = await make_client(scopes=COMPLETION_SCOPES, organisations=["7A4"], name="other")
    first = meeting("00000000-0000-4000-8000-000000000001", {"en-US": "private meeting"})
    assert (await send(client, lms, first)).status_code == 200
    response = await client.get(
        "/xapi/activities", params={"activityId": ACTIVITY}, headers={**auth(outsider), **V}
    )
    assert response.json() == {"objectType": "Activity", "id": ACTIVITY}


async def test_an_agent_is_answered_as_a_person_and_a_bad_one_is_400(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    agent = {"objectType": "Agent", "name": "Example Learner", **MBOX}
    response = await client.get(
        "/xapi/agents", params={"agent": json.dumps(agent)}, headers={**auth(lms), **V}
    )
    assert response.status_code == 200
    assert response.json() == {
        "objectType": "Person",
        "name": ["Example Learner"],
        "mbox": [MBOX["mbox"]],
    }
    bad = await client.get(
        "/xapi/agents", params={"agent": json.dumps({"name": "nobody"})}, headers={**auth(lms), **V}
    )
    assert bad.status_code == 400
    assert bad.json()["invalidParams"][0]["name"] == "agent"
