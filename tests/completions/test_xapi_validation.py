"""xAPI requests this service refuses: the version header, malformed statements (400 naming
the property), media types."""

import json
from typing import Any

import httpx
import pytest

from tests.completions.factories import count_completions
from tests.completions.xapi_examples import ACCOUNT, MBOX, V, send, statement
from tests.conftest import auth


@pytest.mark.parametrize("version", [None, "0.95", "3.0.0", "1.1.0"])
async def test_the_version_header_is_required(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], version: str | None
) -> None:
    headers = auth(lms) | ({"X-Experience-API-Version": version} if version else {})
    response = await client.post("/xapi/statements", json=statement(ACCOUNT), headers=headers)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "X-Experience-API-Version"
    assert await count_completions(app) == 0


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
async def test_a_missing_version_header_is_answered_with_the_latest_version(
    client: httpx.AsyncClient, lms: dict[str, str], method: str
) -> None:
    """xAPI 2.0 (Communication 3.3): the 400 names 2.0.0, the latest version supported."""
    params = {"statementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"}
    body = statement(ACCOUNT) if method != "GET" else None
    response = await client.request(
        method, "/xapi/statements", params=params, json=body, headers=auth(lms)
    )
    assert response.status_code == 400
    assert response.headers["x-experience-api-version"] == "2.0.0"


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


@pytest.mark.parametrize("media_type", ["text/plain", "multipart/form-data; boundary=b"])
async def test_another_media_type_is_400(
    client: httpx.AsyncClient, lms: dict[str, str], media_type: str
) -> None:
    """xAPI: a statement request that is neither application/json nor multipart/mixed is a
    400 (XAPI-00127), not the 415 of the other resources."""
    response = await client.post(
        "/xapi/statements", content=b"x", headers={**auth(lms), **V, "Content-Type": media_type}
    )
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "Content-Type"


def _with(**changes: Any) -> dict[str, Any]:
    return statement(MBOX) | changes


TWO_IDS = {"mbox": "mailto:a@example.com", "openid": "http://a.example.com/"}
SUB = {
    "objectType": "SubStatement",
    "actor": MBOX,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
    "object": {"id": "http://example.com/a"},
}


@pytest.mark.parametrize(
    ("body", "name"),
    [
        (_with(context={"instructor": TWO_IDS}), "context.instructor"),
        (_with(context={"team": {"objectType": "Agent", **MBOX}}), "context.team.objectType"),
        (_with(context={"registration": "x"}), "context.registration"),
        (
            _with(context={"contextActivities": {"parent": [{"id": "not an iri"}]}}),
            "context.contextActivities.parent.0.id",
        ),
        (_with(object=SUB | {"verb": {"id": "attempted"}}), "object.verb.id"),
        (_with(object=SUB | {"object": SUB}), "object.object.objectType"),
        (_with(object=SUB | {"id": "7ccd3322-e1a5-411a-a67d-6a735c76f119"}), "object.id"),
        (_with(result={"duration": "1234 seconds"}), "result.duration"),
        (_with(result={"score": {"raw": 11, "max": 10}}), "result.score.raw"),
        (_with(timestamp="2015-12-18T12:17:00-00:00"), "timestamp"),
        (_with(timestamp="2015-12-18T12:17:00-0000"), "timestamp"),
        (_with(result={"duration": "P4W1D"}), "result.duration"),
        (_with(authority={"objectType": "Group", **MBOX, "member": [MBOX, MBOX]}), "authority"),
        (
            _with(object={"id": "http://example.com/q", "definition": {"interactionType": {}}}),
            "object.definition.interactionType",
        ),
        (_with(object={"objectType": {"x": 1}, "id": "http://example.com/q"}), "object.objectType"),
        (_with(verb={"id": "http://example.com/v", "display": {"not a tag!": "x"}}), ""),
        (_with(result={"extensions": {"not an iri": 1}}), "result.extensions.not an iri"),
        (
            _with(object={"id": "http://example.com/q", "definition": {"interactionType": "x"}}),
            "object.definition.interactionType",
        ),
        (
            _with(
                authority={
                    "objectType": "Group",
                    "member": [MBOX, {"mbox": "mailto:b@example.com"}, {"mbox": "mailto:c@d.org"}],
                }
            ),
            "authority.member",
        ),
        (
            _with(actor={"objectType": "Group", "member": [{"objectType": "Group", **MBOX}]}),
            "actor.member.0.objectType",
        ),
    ],
)
async def test_a_property_at_any_depth_is_checked_and_named(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], body: dict[str, Any], name: str
) -> None:
    response = await send(client, lms, body)
    assert response.status_code == 400, response.text
    named = response.json()["invalidParams"][0]["name"]
    assert named == name or (name == "" and named.startswith("verb.display."))
    assert await count_completions(app) == 0


@pytest.mark.parametrize(("escaped", "reason"), [("\\u0000", "NUL"), ("\\ud800", "surrogates")])
async def test_text_no_database_stores_is_400_naming_the_property(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], escaped: str, reason: str
) -> None:
    body = json.dumps(statement(MBOX)).replace('"en-US": "completed"', f'"en-US": "a{escaped}"')
    response = await client.post(
        "/xapi/statements",
        content=body,
        headers=auth(lms) | V | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == "verb.display.en-US"
    assert reason in response.json()["invalidParams"][0]["reason"]
    assert await count_completions(app) == 0


async def test_a_backslash_u0000_as_text_is_stored(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    body = statement(MBOX)
    body["verb"]["display"] = {"en-US": "\\u0000 is how JSON escapes NUL"}
    assert (await send(client, lms, body)).status_code == 200
