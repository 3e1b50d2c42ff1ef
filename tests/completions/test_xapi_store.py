"""Every valid xAPI statement is kept as received; a voiding statement retracts the completion
the statement it voids made, with the award cascade of DELETE /completions/{id}."""

from typing import Any

import httpx

from tests.completions.factories import count_completions
from tests.completions.xapi_examples import ACCOUNT, MBOX, V, only_completion, send, statement
from tests.conftest import auth

OPENID = {"openid": "http://toby.openid.example.org/"}
ELSEWHERE = {"account": {"homePage": "http://cloud.scorm.com/", "name": "13936749"}}
GROUP = {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}
IDS = [
    "7ccd3322-e1a5-411a-a67d-6a735c76f119",
    "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "2a1e5e4b-3b8b-4d0e-9d0e-6f1b2c3d4e5f",
    "9b0c8d7e-6f5a-4b3c-8d2e-1f0a9b8c7d6e",
]


async def read(client: httpx.AsyncClient, creds: dict[str, str], **params: str) -> httpx.Response:
    return await client.get("/xapi/statements", params=params, headers={**auth(creds), **V})


async def test_an_array_with_actors_we_do_not_identify_stores_every_statement(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], learner: dict[str, Any]
) -> None:
    good = statement(ACCOUNT, id=IDS[0])
    others = [statement(OPENID, id=IDS[1]), statement(ELSEWHERE, id=IDS[2])]
    group = statement({}, id=IDS[3], actor=GROUP)
    response = await send(client, lms, [good, *others, group])
    assert response.status_code == 200, response.text
    assert response.json() == IDS
    assert (await only_completion(client, lms))["externalId"] == IDS[0]
    for statement_id in IDS:
        found = await read(client, lms, statementId=statement_id)
        assert found.status_code == 200, found.text
        assert found.json()["id"] == statement_id
    assert (await read(client, lms, statementId=IDS[1])).json()["actor"]["openid"] == (
        OPENID["openid"]
    )


async def test_a_negative_score_on_a_course_is_kept_and_not_a_completion(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], learner: dict[str, Any]
) -> None:
    response = await send(client, lms, statement(ACCOUNT, result={"score": {"scaled": -0.2}}))
    assert response.status_code == 200, response.text
    assert await count_completions(app) == 0
    assert (await read(client, lms, statementId=IDS[0])).status_code == 200


async def test_a_repeated_id_with_other_content_is_409_for_any_statement(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str]
) -> None:
    attempted = {"id": "http://adlnet.gov/expapi/verbs/attempted"}
    assert (await send(client, lms, statement(OPENID, verb=attempted))).status_code == 200
    again = await send(client, lms, statement(OPENID, verb=attempted))
    assert again.status_code == 200
    other = statement(OPENID, verb=attempted, result={"success": False})
    conflict = await send(client, lms, [statement(MBOX, id=IDS[1]), other])
    assert conflict.status_code == 409, conflict.text
    # All or none: the new statement of the refused array is not stored either.
    assert (await read(client, lms, statementId=IDS[1])).status_code == 404


def voiding(target: str, statement_id: str = IDS[1]) -> dict[str, Any]:
    return {
        "id": statement_id,
        "actor": MBOX,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target},
    }


async def test_voiding_retracts_the_completion_and_revokes_its_award(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    lms: dict[str, str],
    learner: dict[str, Any],
) -> None:
    assert (await send(client, lms, statement(ACCOUNT))).status_code == 200
    awards = await client.get("/staff/13936749/awards", headers=auth(admin))
    assert [(a["level"], a["status"]) for a in awards.json()["data"]] == [("bronze", "active")]
    response = await send(client, lms, voiding(IDS[0]))
    assert response.status_code == 200, response.text
    completion = await only_completion(client, lms)
    assert completion["status"] == "retracted"
    assert completion["retractionReason"] == f"Voided by xAPI statement {IDS[1]}."
    awards = await client.get("/staff/13936749/awards", headers=auth(admin))
    assert [(a["level"], a["status"]) for a in awards.json()["data"]] == [("bronze", "revoked")]
    # The voided statement is found only as a voided one; the voiding one as any other.
    assert (await read(client, lms, statementId=IDS[0])).status_code == 404
    assert (await read(client, lms, voidedStatementId=IDS[0])).json()["id"] == IDS[0]
    listed = (await read(client, lms)).json()["statements"]
    assert [s["id"] for s in listed] == [IDS[1]]


async def test_a_voiding_statement_cannot_be_voided(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    await send(client, lms, statement(OPENID))
    assert (await send(client, lms, voiding(IDS[0]))).status_code == 200
    response = await send(client, lms, voiding(IDS[1], IDS[2]))
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "object.id"


async def test_a_voided_verb_needs_a_statement_ref(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    body = voiding(IDS[0]) | {"object": {"id": "http://example.com/activity"}}
    response = await send(client, lms, body)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "object.objectType"


async def test_another_restricted_platform_cannot_void_a_statement(
    client: httpx.AsyncClient,
    app: Any,
    lms: dict[str, str],
    learner: dict[str, Any],
    make_client: Any,
) -> None:
    await send(client, lms, statement(ACCOUNT))
    other = await make_client(
        scopes=["completions:read", "completions:write"], organisations=["7A4"]
    )
    assert (await send(client, other, voiding(IDS[0]))).status_code == 200
    assert (await only_completion(client, lms))["status"] == "recorded"
    assert (await read(client, lms, statementId=IDS[0])).status_code == 200
