"""The xAPI document resources (State, Activity Profile, Agent Profile): documents stored as
sent, JSON merge on POST, ETag concurrency as each version asks, validation naming the
parameter, and each client's documents its own."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import update

from app.completions import xapi_document_repository
from app.models import XapiDocument
from tests.completions.factories import COMPLETION_SCOPES
from tests.completions.xapi_examples import V
from tests.conftest import ClientFactory, auth

STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"
ACTIVITY = "http://www.example.com/activityId/hashset"
AGENT = {"objectType": "Agent", "account": {"homePage": "http://www.example.com", "name": "1"}}
V2 = {"X-Experience-API-Version": "2.0.0"}


def state(**overrides: Any) -> dict[str, str]:
    params = {"activityId": ACTIVITY, "agent": json.dumps(AGENT), "stateId": "bookmark"}
    params.update(overrides)
    return params


def headers(creds: dict[str, str], version: dict[str, str] = V, **extra: str) -> dict[str, str]:
    return {**auth(creds), **version, **extra}


@pytest.fixture
async def lrs_client(make_client: ClientFactory) -> dict[str, str]:
    return await make_client(scopes=COMPLETION_SCOPES, name="LMS")


async def test_a_state_is_stored_and_answered_as_sent_with_etag_and_last_modified(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    sent = b"\x00binary bookmark\xff"
    put = await client.put(
        STATE,
        params=state(),
        content=sent,
        headers=headers(lrs_client, **{"Content-Type": "application/octet-stream"}),
    )
    assert put.status_code == 204, put.text
    got = await client.get(STATE, params=state(), headers=headers(lrs_client))
    assert got.status_code == 200
    assert got.content == sent
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["etag"] == f'"{hashlib.sha1(sent).hexdigest()}"'  # noqa: S324
    assert got.headers["last-modified"].endswith("GMT")
    assert got.headers["x-experience-api-version"] == "1.0.3"
    head = await client.head(STATE, params=state(), headers=headers(lrs_client))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    missing = await client.get(STATE, params=state(stateId="other"), headers=headers(lrs_client))
    assert missing.status_code == 404


async def test_state_ids_are_listed_since_a_time_and_deleted_all_at_once(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    for state_id in ("a", "b"):
        response = await client.put(
            STATE, params=state(stateId=state_id), json={"n": 1}, headers=headers(lrs_client)
        )
        assert response.status_code == 204
    registration = "3d1bc5f2-9e8a-4b0e-9a8e-0f4a0c8f3f61"
    registered = state(stateId="c", registration=registration)
    await client.put(STATE, params=registered, json={}, headers=headers(lrs_client))
    scope = {k: v for k, v in state().items() if k != "stateId"}
    # Activity + Agent [+ registration if specified] (xAPI 1.0.3 Communication 2.3).
    listed = await client.get(STATE, params=scope, headers=headers(lrs_client))
    assert listed.status_code == 200
    assert sorted(listed.json()) == ["a", "b", "c"]
    of_registration = await client.get(
        STATE, params={**scope, "registration": registration}, headers=headers(lrs_client)
    )
    assert of_registration.json() == ["c"]
    later = await client.get(
        STATE,
        params={**scope, "since": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
        headers=headers(lrs_client),
    )
    assert later.json() == []
    deleted = await client.delete(
        STATE, params={**scope, "registration": registration}, headers=headers(lrs_client)
    )
    assert deleted.status_code == 204
    assert sorted((await client.get(STATE, params=scope, headers=headers(lrs_client))).json()) == [
        "a",
        "b",
    ]
    await client.put(STATE, params=registered, json={}, headers=headers(lrs_client))
    deleted = await client.delete(STATE, params=scope, headers=headers(lrs_client))
    assert deleted.status_code == 204
    assert (await client.get(STATE, params=scope, headers=headers(lrs_client))).json() == []
    gone = await client.get(STATE, params=registered, headers=headers(lrs_client))
    assert gone.status_code == 404


async def test_post_merges_json_objects_one_level_deep(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    first = {"car": "Honda", "location": {"name": "A", "floor": 1}}
    await client.post(STATE, params=state(), json=first, headers=headers(lrs_client))
    response = await client.post(
        STATE,
        params=state(),
        json={"type": "Civic", "location": {"name": "B"}},
        headers=headers(lrs_client),
    )
    assert response.status_code == 204
    got = await client.get(STATE, params=state(), headers=headers(lrs_client))
    assert got.json() == {"car": "Honda", "type": "Civic", "location": {"name": "B"}}


@pytest.mark.parametrize(
    ("stored", "stored_type", "posted", "posted_type"),
    [
        (b'{"a": 1}', "application/json", b"abc", "text/plain"),
        (b"/ asdf /", "application/octet-stream", b'{"b": 2}', "application/json"),
        (b'{"a": 1}', "application/json", b'{"b": 2}{', "application/json"),
        (b'{"a": 1}', "application/json", b"[1, 2]", "application/json"),
    ],
)
async def test_post_refuses_to_merge_what_is_not_a_json_object_and_keeps_the_document(
    client: httpx.AsyncClient,
    lrs_client: dict[str, str],
    stored: bytes,
    stored_type: str,
    posted: bytes,
    posted_type: str,
) -> None:
    await client.put(
        STATE,
        params=state(),
        content=stored,
        headers=headers(lrs_client, **{"Content-Type": stored_type}),
    )
    response = await client.post(
        STATE,
        params=state(),
        content=posted,
        headers=headers(lrs_client, **{"Content-Type": posted_type}),
    )
    assert response.status_code == 400, response.text
    assert (await client.get(STATE, params=state(), headers=headers(lrs_client))).content == stored


async def test_profiles_need_a_precondition_to_put_in_1_0_and_to_replace_in_both_versions(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    params = {"activityId": ACTIVITY, "profileId": "p1"}
    bare = await client.put(
        ACTIVITY_PROFILE, params=params, json={"a": 1}, headers=headers(lrs_client)
    )
    assert bare.status_code == 400
    assert bare.json()["invalidParams"][0]["name"] == "If-Match"
    new = headers(lrs_client, **{"If-None-Match": "*"})
    assert (
        await client.put(ACTIVITY_PROFILE, params=params, json={"a": 1}, headers=new)
    ).status_code == 204
    assert (
        await client.put(ACTIVITY_PROFILE, params=params, json={"a": 2}, headers=new)
    ).status_code == 412
    replace = await client.put(
        ACTIVITY_PROFILE, params=params, json={"a": 3}, headers=headers(lrs_client)
    )
    assert replace.status_code == 409
    replace_v2 = await client.put(
        ACTIVITY_PROFILE, params=params, json={"a": 3}, headers=headers(lrs_client, V2)
    )
    assert replace_v2.status_code == 409
    got = await client.get(ACTIVITY_PROFILE, params=params, headers=headers(lrs_client))
    assert got.json() == {"a": 1}
    etag = got.headers["etag"]
    wrong = headers(lrs_client, **{"If-Match": '"1111111111111111111111111111111111111111"'})
    assert (
        await client.put(ACTIVITY_PROFILE, params=params, json={"a": 4}, headers=wrong)
    ).status_code == 412
    assert (await client.delete(ACTIVITY_PROFILE, params=params, headers=wrong)).status_code == 412
    assert (
        await client.post(ACTIVITY_PROFILE, params=params, json={"b": 1}, headers=wrong)
    ).status_code == 412
    right = headers(lrs_client, **{"If-Match": etag})
    assert (
        await client.put(ACTIVITY_PROFILE, params=params, json={"a": 5}, headers=right)
    ).status_code == 204
    assert (
        await client.get(ACTIVITY_PROFILE, params=params, headers=headers(lrs_client))
    ).json() == {"a": 5}
    # The ETag read before the change no longer matches.
    assert (await client.delete(ACTIVITY_PROFILE, params=params, headers=right)).status_code == 412


async def test_2_0_stores_a_new_profile_without_a_precondition_and_guards_states(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    params = {"agent": json.dumps(AGENT), "profileId": "p1"}
    new = await client.put(
        AGENT_PROFILE, params=params, json={"a": 1}, headers=headers(lrs_client, V2)
    )
    assert new.status_code == 204
    await client.put(STATE, params=state(), json={"a": 1}, headers=headers(lrs_client))
    # xAPI 1.0.x overwrites a state without a precondition; 2.0 wants one.
    v1 = await client.put(STATE, params=state(), json={"a": 2}, headers=headers(lrs_client))
    assert v1.status_code == 204
    v2 = await client.put(STATE, params=state(), json={"a": 3}, headers=headers(lrs_client, V2))
    assert v2.status_code == 409
    assert (await client.get(STATE, params=state(), headers=headers(lrs_client))).json() == {"a": 2}


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({k: v for k, v in state().items() if k != "activityId"}, "activityId"),
        ({k: v for k, v in state().items() if k != "agent"}, "agent"),
        (state(agent="{not json"), "agent"),
        (state(agent=json.dumps({"objectType": "Agent", "name": "No identifier"})), "agent"),
        (state(agent=json.dumps({"mbox": "not-a-mailto"})), "agent.mbox"),
        (state(registration="true"), "registration"),
        ({k: v for k, v in state().items() if k != "stateId"}, "stateId"),
    ],
)
async def test_bad_or_missing_parameters_are_400_naming_them(
    client: httpx.AsyncClient, lrs_client: dict[str, str], params: dict[str, str], named: str
) -> None:
    response = await client.put(STATE, params=params, json={"a": 1}, headers=headers(lrs_client))
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == named


async def test_a_bad_since_and_a_missing_version_are_400(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    scope = {"activityId": ACTIVITY, "since": "yesterday"}
    response = await client.get(ACTIVITY_PROFILE, params=scope, headers=headers(lrs_client))
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "since"
    assert response.headers["x-experience-api-version"] == "1.0.3"
    unversioned = await client.get(STATE, params=state(), headers=auth(lrs_client))
    assert unversioned.status_code == 400
    assert unversioned.json()["invalidParams"][0]["name"] == "X-Experience-API-Version"


async def test_another_client_can_neither_read_nor_change_nor_delete_a_document(
    client: httpx.AsyncClient, lrs_client: dict[str, str], make_client: ClientFactory
) -> None:
    outsider = await make_client(scopes=COMPLETION_SCOPES, name="another platform")
    params = {"agent": json.dumps(AGENT), "profileId": "p1"}
    mine = headers(lrs_client, **{"If-None-Match": "*"})
    await client.put(AGENT_PROFILE, params=params, json={"mine": True}, headers=mine)
    read = await client.get(AGENT_PROFILE, params=params, headers=headers(outsider))
    assert read.status_code == 404
    listed = await client.get(
        AGENT_PROFILE, params={"agent": params["agent"]}, headers=headers(outsider)
    )
    assert listed.json() == []
    # Its PUT and POST create its own document; its DELETE deletes nothing of ours.
    theirs = headers(outsider, **{"If-None-Match": "*"})
    assert (
        await client.put(AGENT_PROFILE, params=params, json={"theirs": 1}, headers=theirs)
    ).status_code == 204
    assert (
        await client.post(AGENT_PROFILE, params=params, json={"more": 1}, headers=headers(outsider))
    ).status_code == 204
    assert (
        await client.delete(AGENT_PROFILE, params=params, headers=headers(outsider))
    ).status_code == 204
    got = await client.get(AGENT_PROFILE, params=params, headers=headers(lrs_client))
    assert got.json() == {"mine": True}


async def test_writing_needs_completions_write(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    reader = await make_client(scopes=["completions:read"], name="dashboard")
    response = await client.put(STATE, params=state(), json={}, headers=headers(reader))
    assert response.status_code == 403
    assert (await client.get(STATE, params=state(), headers=headers(reader))).status_code == 404
    assert (await client.get(STATE, params=state())).status_code in (400, 401)


async def test_the_alternate_request_syntax_stores_and_reads_a_state(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    form = {**state(), **auth(lrs_client), **V, "content": json.dumps({"via": "form"})}
    put = await client.post(
        STATE + "?method=PUT",
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert put.status_code == 204, put.text
    form = {**state(), **auth(lrs_client), **V}
    got = await client.post(
        STATE + "?method=GET",
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert got.json() == {"via": "form"}


async def test_a_change_between_read_and_write_is_a_409_to_retry_not_a_lost_update(
    client: httpx.AsyncClient, lrs_client: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two merges at once: the second to write finds the document changed since it read it."""
    await client.post(STATE, params=state(), json={"a": 1}, headers=headers(lrs_client))
    real = xapi_document_repository.get_document

    async def read_then_changed(*args: Any) -> Any:
        found = await real(*args)
        session = args[0]
        await session.execute(update(XapiDocument).values(content=b'{"b": 2}', etag="0" * 40))
        return found

    monkeypatch.setattr(xapi_document_repository, "get_document", read_then_changed)
    response = await client.post(STATE, params=state(), json={"c": 3}, headers=headers(lrs_client))
    assert response.status_code == 409
    assert response.json()["type"].endswith("concurrent-change")
    assert response.headers["retry-after"]


async def test_an_over_long_precondition_is_400_naming_it(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    """Found by the fuzzer: an If-None-Match over its documented maxLength was taken."""
    too_long = headers(lrs_client, **{"If-None-Match": "0" * 2001})
    response = await client.put(STATE, params=state(), json={}, headers=too_long)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "If-None-Match"


DEEP = "[" * 1000
HOSTILE_PARAMETERS = [
    ("agent", '{"account": {"homePage": "http://x.org", "name": "\\ud800"}}', "agent"),
    ("agent", '{"account": {"homePage": "http://x.org", "name": "a\\u0000b"}}', "agent"),
    ("agent", json.dumps({"openid": "http://x.org/" + "o" * 2500}), "agent"),
    ("stateId", "s" * 2500, "stateId"),
    ("activityId", "http://x.org/" + "a" * 2500, "activityId"),
]


@pytest.mark.parametrize(("name", "value", "named"), HOSTILE_PARAMETERS)
async def test_a_hostile_parameter_is_400_naming_it_on_every_method(
    client: httpx.AsyncClient, lrs_client: dict[str, str], name: str, value: str, named: str
) -> None:
    params = state(**{name: value})
    answers = [
        await client.get(STATE, params=params, headers=headers(lrs_client)),
        await client.put(STATE, params=params, json={"a": 1}, headers=headers(lrs_client)),
        await client.post(STATE, params=params, json={"a": 1}, headers=headers(lrs_client)),
        await client.delete(STATE, params=params, headers=headers(lrs_client)),
    ]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        names = [p["name"] for p in answer.json()["invalidParams"]]
        assert any(n == named or n.startswith(f"{named}.") for n in names), answer.text


async def test_an_agent_nested_past_the_parsers_depth_is_400(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    """As long as the URL limit allows (1,000 brackets): deeper than Python's JSON parser."""
    for path in ("/xapi/agents", "/xapi/statements"):
        answer = await client.get(path, params={"agent": DEEP}, headers=headers(lrs_client))
        assert answer.status_code == 400, answer.text
        assert "agent" in {p["name"] for p in answer.json()["invalidParams"]}


async def test_a_parameter_too_long_for_a_url_is_refused_in_the_alternate_syntax_too(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    form = {
        **state(stateId="s" * 5000),
        "Authorization": auth(lrs_client)["Authorization"],
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
        "content": '{"a": 1}',
    }
    answer = await client.post(
        STATE,
        params={"method": "PUT"},
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 400, answer.text
    assert "stateId" in {p["name"] for p in answer.json()["invalidParams"]}


@pytest.mark.parametrize(
    "body",
    [DEEP.encode(), b'{"a": NaN}', b'{"a": "\\ud800"}', b'{"a": "\\u0000"}'],
    ids=["deep", "nan", "surrogate", "nul"],
)
async def test_a_merge_of_what_cannot_be_stored_as_json_is_400_and_keeps_the_document(
    client: httpx.AsyncClient, lrs_client: dict[str, str], body: bytes
) -> None:
    kept = await client.put(STATE, params=state(), json={"a": 1}, headers=headers(lrs_client))
    assert kept.status_code == 204, kept.text
    merged = await client.post(
        STATE,
        params=state(),
        content=body,
        headers=headers(lrs_client, **{"Content-Type": "application/json"}),
    )
    assert merged.status_code == 400, merged.text
    got = await client.get(STATE, params=state(), headers=headers(lrs_client))
    assert got.json() == {"a": 1}


async def test_a_statement_query_by_an_agent_with_a_nul_is_400(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    for agent in ('{"mbox": "mailto:a\\u0000@example.org"}',):
        answer = await client.get(
            "/xapi/statements", params={"agent": agent}, headers=headers(lrs_client)
        )
        assert answer.status_code == 400, answer.text
        assert "agent" in {p["name"] for p in answer.json()["invalidParams"]}


async def test_a_post_of_anything_but_a_json_object_is_400_even_with_nothing_stored(
    client: httpx.AsyncClient, lrs_client: dict[str, str]
) -> None:
    """xAPI 1.0.3 Communication 2.2: a posted document is JSON, to be merged."""
    posted = await client.post(
        STATE,
        params=state(stateId="fresh"),
        content=b"plain words",
        headers=headers(lrs_client, **{"Content-Type": "text/plain"}),
    )
    assert posted.status_code == 400, posted.text
    assert "Content-Type" in {p["name"] for p in posted.json()["invalidParams"]}
    got = await client.get(STATE, params=state(stateId="fresh"), headers=headers(lrs_client))
    assert got.status_code == 404


async def test_a_create_that_loses_to_a_concurrent_one_is_412_under_if_none_match(
    client: httpx.AsyncClient, lrs_client: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If-None-Match: * asks "only if there is none": when another request stored one between
    this one's read and its write, that precondition failed (412), not a retry (409)."""
    stored = await client.put(STATE, params=state(), json={"a": 1}, headers=headers(lrs_client))
    assert stored.status_code == 204

    async def read_before_the_other_wrote(*args: Any) -> Any:
        return None

    monkeypatch.setattr(xapi_document_repository, "get_document", read_before_the_other_wrote)
    guarded = headers(lrs_client, **{"If-None-Match": "*"})
    lost = await client.put(STATE, params=state(), json={"b": 2}, headers=guarded)
    assert lost.status_code == 412, lost.text
    monkeypatch.undo()
    kept = await client.get(STATE, params=state(), headers=headers(lrs_client))
    assert kept.json() == {"a": 1}
