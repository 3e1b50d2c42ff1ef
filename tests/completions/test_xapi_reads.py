"""Reading xAPI statements: by id, by query with more paging, HEAD, about; a restricted
client reads only what it sent or whose completion it can see."""

import json
from dataclasses import replace
from typing import Any

import httpx
import pytest

from app.completions import xapi_repository
from tests.completions.factories import COMPLETION_SCOPES
from tests.completions.xapi_examples import ACCOUNT, MBOX, V, send, statement
from tests.conftest import ClientFactory, auth
from tests.staff.factories import person

ATTEMPTED = {"id": "http://adlnet.gov/expapi/verbs/attempted"}


def bearer(creds: dict[str, str]) -> dict[str, str]:
    return {**auth(creds), **V}


def ids_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["statements"]]


async def sent(client: httpx.AsyncClient, creds: dict[str, str], count: int) -> list[str]:
    bodies = [statement(MBOX, id=f"00000000-0000-4000-8000-{i:012d}") for i in range(count)]
    response = await send(client, creds, bodies)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_queries_page_with_more_newest_first(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    ids = await sent(client, lms, 5)
    first = await client.get("/xapi/statements", params={"limit": "2"}, headers=bearer(lms))
    assert ids_of(first) == ids[::-1][:2]
    assert first.headers["x-experience-api-consistent-through"]
    assert first.headers["last-modified"]
    seen = ids_of(first)
    more = first.json()["more"]
    while more:
        page = await client.get(more, headers=bearer(lms))
        seen += ids_of(page)
        more = page.json()["more"]
    assert seen == ids[::-1]
    ascending = await client.get(
        "/xapi/statements", params={"ascending": "true"}, headers=bearer(lms)
    )
    assert ids_of(ascending) == ids


async def test_queries_filter_by_agent_verb_activity_and_time(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    other = {"mbox": "mailto:someone.else@example.com"}
    bodies = [
        statement(MBOX, id="00000000-0000-4000-8000-000000000001"),
        statement(other, id="00000000-0000-4000-8000-000000000002", verb=ATTEMPTED),
        statement(
            other,
            id="00000000-0000-4000-8000-000000000003",
            object={"id": "http://example.com/other"},
            context={"contextActivities": {"parent": [{"id": "http://example.com/parent"}]}},
        ),
    ]
    assert (await send(client, lms, bodies)).status_code == 200

    async def query(**params: str) -> list[str]:
        found = await client.get("/xapi/statements", params=params, headers=bearer(lms))
        return [i[-1] for i in ids_of(found)]

    assert await query(agent='{"mbox": "mailto:example.learner@adlnet.gov"}') == ["1"]
    assert await query(verb=ATTEMPTED["id"]) == ["2"]
    assert await query(activity="http://example.com/other") == ["3"]
    assert await query(activity="http://example.com/parent") == []
    assert await query(activity="http://example.com/parent", related_activities="true") == ["3"]
    assert await query(until="2000-01-01T00:00:00Z") == []
    assert await query(since="2000-01-01T00:00:00Z") == ["3", "2", "1"]


@pytest.mark.parametrize(
    "params",
    [{"mood": "x"}, {"limit": "-1"}, {"agent": "not json"}, {"statementId": "x"}, {"format": "y"}],
)
async def test_bad_query_parameters_are_400(
    client: httpx.AsyncClient, lms: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/xapi/statements", params=params, headers=bearer(lms))
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("name", ["since", "until"])
async def test_a_time_outside_the_plausible_range_is_400_naming_the_limit(
    client: httpx.AsyncClient, lms: dict[str, str], name: str
) -> None:
    params = {name: "0115-01-13T09:48:36.046+14:33"}
    response = await client.get("/xapi/statements", params=params, headers=bearer(lms))
    assert response.status_code == 400, response.text
    [invalid] = response.json()["invalidParams"]
    assert invalid["name"] == name
    assert "1948-07-05" in invalid["reason"]


async def test_head_answers_the_headers_without_a_body(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    await sent(client, lms, 1)
    response = await client.head("/xapi/statements", headers=bearer(lms))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["x-experience-api-version"] == "1.0.3"


async def test_about_names_the_versions_without_authentication(client: httpx.AsyncClient) -> None:
    response = await client.get("/xapi/about")
    assert response.status_code == 200
    assert "1.0.3" in response.json()["version"] and "2.0.0" in response.json()["version"]


async def test_a_restricted_client_reads_what_it_sent_or_whose_completion_it_sees(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    lms: dict[str, str],
    make_client: ClientFactory,
) -> None:
    # The learner is in 7A4; the LMS (unrestricted) sends a completion and an attempt.
    await client.put("/staff/13936749", json=person("13936749"), headers=auth(admin))
    completed = statement(ACCOUNT, id="00000000-0000-4000-8000-000000000001")
    attempt = statement(ACCOUNT, id="00000000-0000-4000-8000-000000000002", verb=ATTEMPTED)
    assert (await send(client, lms, [completed, attempt])).status_code == 200
    cardiff = await make_client(scopes=COMPLETION_SCOPES, organisations=["7A4"])
    gwent = await make_client(scopes=COMPLETION_SCOPES, organisations=["7A6"])
    own = statement(MBOX, id="00000000-0000-4000-8000-000000000003")
    assert (await send(client, gwent, own)).status_code == 200

    async def readable(creds: dict[str, str]) -> list[str]:
        found = ids_of(await client.get("/xapi/statements", headers={**auth(creds), **V}))
        for statement_id in ("1", "2", "3"):
            one = await client.get(
                "/xapi/statements",
                params={"statementId": f"00000000-0000-4000-8000-00000000000{statement_id}"},
                headers={**auth(creds), **V},
            )
            assert one.status_code == (200 if statement_id in [i[-1] for i in found] else 404)
        return [i[-1] for i in found]

    assert await readable(lms) == ["3", "2", "1"]
    assert await readable(cardiff) == ["1"]  # the completion of its staff, not the attempt
    assert await readable(gwent) == ["3"]  # its own only


async def test_a_query_also_answers_statements_referring_to_matching_ones(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    first = statement(MBOX, id="00000000-0000-4000-8000-000000000001", verb=ATTEMPTED)
    ref = statement(
        MBOX,
        id="00000000-0000-4000-8000-000000000002",
        object={"objectType": "StatementRef", "id": first["id"]},
    )
    other = statement(MBOX, id="00000000-0000-4000-8000-000000000003")
    assert (await send(client, lms, [first, ref, other])).status_code == 200
    found = await client.get(
        "/xapi/statements", params={"verb": ATTEMPTED["id"]}, headers=bearer(lms)
    )
    assert [i[-1] for i in ids_of(found)] == ["2", "1"]


async def test_a_single_context_activity_is_answered_as_an_array(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    parent = {"id": "http://example.com/parent"}
    body = statement(MBOX, context={"contextActivities": {"parent": parent}})
    [statement_id] = (await send(client, lms, body)).json()
    found = await client.get(
        "/xapi/statements", params={"statementId": statement_id}, headers=bearer(lms)
    )
    assert found.json()["context"]["contextActivities"]["parent"] == [parent]


async def test_formats_ids_and_canonical(client: httpx.AsyncClient, lms: dict[str, str]) -> None:
    body = statement(
        {**MBOX, "name": "Example Learner"},
        verb={"id": ATTEMPTED["id"], "display": {"en-US": "attempted", "en-GB": "attempted"}},
    )
    [statement_id] = (await send(client, lms, body)).json()
    params = {"statementId": statement_id}
    ids = await client.get(
        "/xapi/statements", params=params | {"format": "ids"}, headers=bearer(lms)
    )
    assert ids.json()["actor"] == {"objectType": "Agent", **MBOX}
    assert ids.json()["verb"] == ATTEMPTED
    assert ids.json()["object"] == {"id": body["object"]["id"]}
    canonical = await client.get(
        "/xapi/statements",
        params=params | {"format": "canonical"},
        headers={**bearer(lms), "Accept-Language": "en-GB"},
    )
    assert canonical.json()["verb"]["display"] == {"en-GB": "attempted"}


@pytest.mark.parametrize("ascending", [False, True])
async def test_a_filtered_query_pages_through_matches_and_statements_referring_to_them(
    client: httpx.AsyncClient, lms: dict[str, str], ascending: bool
) -> None:
    def numbered(i: int, **overrides: Any) -> dict[str, Any]:
        return statement(MBOX, id=f"00000000-0000-4000-8000-00000000000{i}", **overrides)

    def referring_to(i: int) -> dict[str, Any]:
        return {"objectType": "StatementRef", "id": f"00000000-0000-4000-8000-00000000000{i}"}

    bodies = [
        numbered(1, verb=ATTEMPTED),
        numbered(2, object=referring_to(1)),
        numbered(3, verb=ATTEMPTED),
        numbered(4),
        numbered(5, object=referring_to(3)),
        numbered(6, object=referring_to(4)),
    ]
    assert (await send(client, lms, bodies)).status_code == 200
    params = {"verb": ATTEMPTED["id"], "limit": "1", "ascending": str(ascending).lower()}
    page = await client.get("/xapi/statements", params=params, headers=bearer(lms))
    seen = ids_of(page)
    while page.json()["more"]:
        page = await client.get(page.json()["more"], headers=bearer(lms))
        seen += ids_of(page)
    expected = ["1", "2", "3", "5"]
    assert [i[-1] for i in seen] == (expected if ascending else expected[::-1])


def _numbered(i: int, **overrides: Any) -> dict[str, Any]:
    return statement(MBOX, id=f"00000000-0000-4000-8000-00000000000{i}", **overrides)


def _naming(i: int) -> dict[str, Any]:
    return {"objectType": "StatementRef", "id": f"00000000-0000-4000-8000-00000000000{i}"}


async def _query(client: httpx.AsyncClient, creds: dict[str, str], **params: str) -> list[str]:
    found = await client.get("/xapi/statements", params=params, headers=bearer(creds))
    return [i[-1] for i in ids_of(found)]


OTHER = {"mbox": "mailto:someone.else@example.com"}
REGISTRATION = "ec531277-b57b-4c15-8d91-d292c5b2b8f7"


async def test_a_statement_naming_one_not_yet_stored_is_found_once_that_one_arrives(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    parent = {"contextActivities": {"parent": [{"id": "http://example.com/parent"}]}}
    naming = statement(OTHER, id="00000000-0000-4000-8000-000000000002", object=_naming(1))
    assert (await send(client, lms, naming)).status_code == 200
    assert await _query(client, lms, verb=ATTEMPTED["id"]) == []
    target = _numbered(1, verb=ATTEMPTED, context={**parent, "registration": REGISTRATION})
    assert (await send(client, lms, target)).status_code == 200  # stored after the one naming it
    assert await _query(client, lms, verb=ATTEMPTED["id"]) == ["1", "2"]
    assert await _query(client, lms, agent=json.dumps(MBOX)) == ["1", "2"]
    assert await _query(client, lms, activity=target["object"]["id"]) == ["1", "2"]
    assert await _query(client, lms, registration=REGISTRATION) == ["1", "2"]
    related = {"activity": "http://example.com/parent", "related_activities": "true"}
    assert await _query(client, lms, activity="http://example.com/parent") == []
    assert await _query(client, lms, **related) == ["1", "2"]


async def test_every_filter_holds_of_the_statement_itself_or_of_the_one_it_names(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    """A statement naming another matches when that one meets all the filters, not when it
    meets some and the statement naming it the rest."""
    bodies = [
        _numbered(1, verb=ATTEMPTED),
        statement(OTHER, id="00000000-0000-4000-8000-000000000002", object=_naming(1)),
    ]
    assert (await send(client, lms, bodies)).status_code == 200
    assert await _query(client, lms, agent=json.dumps(MBOX), verb=ATTEMPTED["id"]) == ["2", "1"]
    assert await _query(client, lms, agent=json.dumps(OTHER), verb=ATTEMPTED["id"]) == []
    completed = "http://adlnet.gov/expapi/verbs/completed"
    assert await _query(client, lms, agent=json.dumps(OTHER), verb=completed) == ["2"]
    assert await _query(client, lms, agent=json.dumps(OTHER)) == ["2"]


async def test_a_voided_statement_is_left_out_and_those_naming_it_found(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    """As the ADL suite checks (XAPI-00162): the voiding statement and another naming the
    voided one are answered, the voided one only by voidedStatementId."""
    voided = {"id": "http://adlnet.gov/expapi/verbs/voided"}
    bodies = [
        _numbered(1, verb=ATTEMPTED),
        _numbered(2, verb=voided, object=_naming(1)),
        _numbered(3, verb=ATTEMPTED, object=_naming(1)),
        _numbered(4, object=_naming(1)),
    ]
    assert (await send(client, lms, bodies)).status_code == 200
    assert await _query(client, lms, verb=ATTEMPTED["id"]) == ["4", "3", "2"]
    assert await _query(client, lms, verb=voided["id"]) == ["2"]


def test_a_query_is_built_once_for_each_shape_and_run_with_its_values() -> None:
    """Building the query cost a quarter of a page's CPU: one of each shape is kept, and a
    query of the same shape with other values (or another restricted reader) reuses it."""
    cardiff = xapi_repository.Reader("a", frozenset({"7A4"}))
    gwent = xapi_repository.Reader("b", frozenset({"7A6"}))
    attempted = xapi_repository.StatementFilter(verb=ATTEMPTED["id"], after=10)
    completed = xapi_repository.StatementFilter(verb="http://adlnet.gov/expapi/verbs/completed")
    first, first_values = xapi_repository._statements_query_of_shape(cardiff, attempted, 5)
    again, again_values = xapi_repository._statements_query_of_shape(
        gwent, replace(attempted, after=3), 9
    )
    other, _ = xapi_repository._statements_query_of_shape(cardiff, completed, 5)
    assert again is first and other is not first
    assert first_values["verb"] == ATTEMPTED["id"]
    assert (first_values["reader_client_id"], again_values["reader_client_id"]) == ("a", "b")
    assert (first_values["reader_organisations"], again_values["reader_organisations"]) == (
        ["7A4"],
        ["7A6"],
    )
    assert (first_values["after"], again_values["after"]) == (10, 3)
    assert (first_values["page_size"], again_values["page_size"]) == (6, 10)
