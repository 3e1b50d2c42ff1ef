"""Projects over HTTP: create, read, list with filters, change with If-Match, authorisation."""

import httpx
import jsonschema_rs
import pytest

from tests.conftest import ClientFactory, auth
from tests.projects.factories import (
    LEAD,
    MEMBER,
    MENTOR,
    OTHER_ORGANISATION_PERSON,
    create_project,
    project,
    project_in_state,
    team,
)


async def test_create_is_201_draft_with_location_etag_and_team(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post("/improvementProjects", json=project(), headers=auth(admin))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "draft"
    assert body["allowedActions"] == ["edit", "submit", "withdraw"]
    assert response.headers["location"].endswith(f"/improvementProjects/{body['id']}")
    assert response.headers["etag"] == '"1"'
    assert body["team"][0] == {"employeeNumber": LEAD, "role": "lead"}
    assert body["changes"][0]["startedOn"] == "2026-03-02"
    assert body["links"] == [{"title": "Run chart", "url": "https://example.nhs.wales/c4"}]
    fetched = await client.get(response.headers["location"], headers=auth(admin))
    assert fetched.json() == body
    assert fetched.headers["etag"] == '"1"'


async def test_a_draft_needs_only_title_and_organisation(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"title": "Quieter nights on ward B2", "organisation": "7A4"}
    response = await client.post("/improvementProjects", json=body, headers=auth(admin))
    assert response.status_code == 201, response.text
    assert response.json()["team"] == [] and response.json()["outcome"] is None


async def test_unknown_team_members_are_422_naming_each_number(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    members = team((LEAD, "lead"), ("999998", "member"), ("999999", "mentor"))
    response = await client.post(
        "/improvementProjects", json=project(team=members), headers=auth(admin)
    )
    assert response.status_code == 422
    params = response.json()["invalidParams"]
    assert params == [
        {
            "name": "team.1.employeeNumber",
            "reason": "No staff member 999998 is known to the service.",
        },
        {
            "name": "team.2.employeeNumber",
            "reason": "No staff member 999999 is known to the service.",
        },
    ]


@pytest.mark.parametrize(
    "members",
    [
        team((LEAD, "lead"), (MEMBER, "lead")),
        team((LEAD, "lead"), (LEAD, "mentor")),
        team((LEAD, "captain")),
    ],
    ids=["two leads", "person twice", "unknown role"],
)
async def test_invalid_team_is_422_on_team(
    client: httpx.AsyncClient, admin: dict[str, str], members: list[dict[str, str]]
) -> None:
    response = await client.post(
        "/improvementProjects", json=project(team=members), headers=auth(admin)
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"].startswith("team")


async def test_invalid_fields_are_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = project(
        outcome="success",
        measures=[{"name": "x", "kind": "vanity"}],
        links=[{"title": "x", "url": "javascript:alert(1)"}],
        changes=[{"title": "x", "startedOn": "2026-03-02", "endedOn": "2026-03-01"}],
    )
    response = await client.post("/improvementProjects", json=body, headers=auth(admin))
    assert response.status_code == 422
    names = {p["name"] for p in response.json()["invalidParams"]}
    assert names == {"outcome", "measures.0.kind", "links.0.url", "changes.0"}


async def test_unknown_organisation_is_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/improvementProjects", json=project(organisation="7Z9"), headers=auth(admin)
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "organisation"


async def test_patch_without_if_match_is_428_and_stale_is_412(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create_project(client, admin)
    path = f"/improvementProjects/{created['id']}"
    missing = await client.patch(path, json={"title": "New"}, headers=auth(admin))
    assert missing.status_code == 428
    assert missing.json()["type"].endswith("/precondition-required")
    changed = await client.patch(
        path, json={"title": "New"}, headers={**auth(admin), "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    stale = await client.patch(
        path, json={"title": "Newer"}, headers={**auth(admin), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.json()["currentETag"] == '"2"'
    assert (await client.get(path, headers=auth(admin))).json()["title"] == "New"


async def test_patch_merges_replaces_lists_and_clears_with_null(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create_project(client, admin)
    response = await client.patch(
        f"/improvementProjects/{created['id']}",
        json={"area": None, "outcome": "worse", "team": team((MEMBER, "lead"))},
        headers={**auth(admin), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["area"] is None and body["outcome"] == "worse"
    assert body["team"] == [{"employeeNumber": MEMBER, "role": "lead"}]
    assert body["title"] == created["title"] and body["changes"] == created["changes"]
    listed = await client.get(f"/improvementProjects?employeeNumber={LEAD}", headers=auth(admin))
    assert listed.json()["data"] == []


async def test_patch_refuses_null_title(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await create_project(client, admin)
    response = await client.patch(
        f"/improvementProjects/{created['id']}",
        json={"title": None},
        headers={**auth(admin), "If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "title"


@pytest.mark.parametrize("state", ["approved", "withdrawn"])
async def test_approved_and_withdrawn_are_not_editable(
    client: httpx.AsyncClient, admin: dict[str, str], state: str
) -> None:
    current = await project_in_state(client, admin, state)
    etag = (await client.get(f"/improvementProjects/{current['id']}", headers=auth(admin))).headers[
        "etag"
    ]
    response = await client.patch(
        f"/improvementProjects/{current['id']}",
        json={"title": "Rewritten history"},
        headers={**auth(admin), "If-Match": etag},
    )
    assert response.status_code == 409
    assert response.json()["currentState"] == state
    assert response.json()["allowedActions"] == []


async def test_list_filters_by_organisation_status_person_and_time(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    first = await create_project(client, admin)
    other = await create_project(
        client,
        admin,
        organisation="7A6",
        team=team((OTHER_ORGANISATION_PERSON, "lead"), (MENTOR, "mentor")),
    )
    submitted = await project_in_state(client, admin, "submitted")

    async def ids(query: str) -> list[int]:
        response = await client.get(f"/improvementProjects?{query}", headers=auth(admin))
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["data"]]

    assert await ids("") == [first["id"], other["id"], submitted["id"]]
    assert await ids("organisation=7A6") == [other["id"]]
    assert await ids("status=submitted") == [submitted["id"]]
    assert await ids(f"employeeNumber={MENTOR}") == [first["id"], other["id"], submitted["id"]]
    assert await ids(f"employeeNumber={OTHER_ORGANISATION_PERSON}") == [other["id"]]
    assert await ids(f"updatedSince={submitted['updatedAt'].replace('+', '%2B')}") == [
        submitted["id"]
    ]
    bad = await client.get("/improvementProjects?status=finished", headers=auth(admin))
    assert bad.status_code == 422


async def test_list_pages_with_next_link(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    made = [(await create_project(client, admin))["id"] for _ in range(3)]
    first = (await client.get("/improvementProjects?pageSize=2", headers=auth(admin))).json()
    assert [p["id"] for p in first["data"]] == made[:2]
    (next_link,) = [link["href"] for link in first["links"] if link["rel"] == "next"]
    second = (await client.get(next_link, headers=auth(admin))).json()
    assert [p["id"] for p in second["data"]] == made[2:]


async def test_restricted_client_sees_and_changes_only_its_organisations(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    theirs = await create_project(client, admin, organisation="7A6")
    ours = await create_project(client, admin)
    restricted = await make_client(organisations=["7A4"])
    path = f"/improvementProjects/{theirs['id']}"
    assert (await client.get(path, headers=auth(restricted))).status_code == 404
    patched = await client.patch(
        path, json={"title": "x"}, headers={**auth(restricted), "If-Match": '"1"'}
    )
    assert patched.status_code == 404
    for action in ("submission", "withdrawal"):
        assert (await client.post(f"{path}/{action}", headers=auth(restricted))).status_code == 404
    assert (await client.get(f"{path}/reviews", headers=auth(restricted))).status_code == 404
    listed = (await client.get("/improvementProjects", headers=auth(restricted))).json()
    assert [p["id"] for p in listed["data"]] == [ours["id"]]
    created = await client.post(
        "/improvementProjects", json=project(organisation="7A6"), headers=auth(restricted)
    )
    assert created.status_code == 403
    moved = await client.patch(
        f"/improvementProjects/{ours['id']}",
        json={"organisation": "7A6"},
        headers={**auth(restricted), "If-Match": '"1"'},
    )
    assert moved.status_code == 403


@pytest.mark.parametrize(
    ("scopes", "method", "path"),
    [
        (["projects:write"], "GET", "/improvementProjects"),
        (["projects:read"], "POST", "/improvementProjects"),
        (["projects:read", "projects:write"], "POST", "/improvementProjects/1/reviews"),
        (["projects:review"], "POST", "/improvementProjects/1/submission"),
    ],
)
async def test_scopes_are_required(
    client: httpx.AsyncClient,
    make_client: ClientFactory,
    scopes: list[str],
    method: str,
    path: str,
) -> None:
    creds = await make_client(scopes=scopes)
    response = await client.request(method, path, json={}, headers=auth(creds))
    assert response.status_code == 403


async def test_reads_and_writes_are_audited(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await create_project(client, admin)
    await client.get(f"/improvementProjects/{created['id']}", headers=auth(admin))
    await client.post(f"/improvementProjects/{created['id']}/submission", headers=auth(admin))
    records = (
        await client.get(
            f"/auditRecords?resourceType=improvementProject&resourceId={created['id']}",
            headers=auth(admin),
        )
    ).json()["data"]
    assert [(r["action"], r["outcome"]) for r in records] == [
        ("create", "success"),
        ("read", "success"),
        ("submit", "success"),
    ]


async def test_long_texts_are_answered_whole(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    long_text = "Spread to every ward in the health board. " * 400  # 16,800 characters
    body = {**project(), "sustainabilityAndSpread": long_text, "learning": long_text}
    response = await client.post("/improvementProjects", json=body, headers=auth(admin))
    assert response.status_code == 201, response.text
    fetched = (await client.get(response.headers["location"], headers=auth(admin))).json()
    assert fetched["sustainabilityAndSpread"] == long_text
    assert fetched["learning"] == long_text


@pytest.mark.parametrize(
    ("schema", "field", "body"),
    [
        ("Measure", "name", {"measures": [{"name": "   ", "kind": "outcome"}]}),
        ("ChangeTested", "title", {"changes": [{"title": "\t \n"}]}),
        ("ProjectFields", "title", {"title": "  "}),
    ],
)
async def test_blank_text_the_service_refuses_is_refused_by_the_contract(
    client: httpx.AsyncClient, admin: dict[str, str], schema: str, field: str, body: dict
) -> None:
    """A generated client validates against the contract: it must refuse what we refuse."""
    response = await client.post("/improvementProjects", json=project(**body), headers=auth(admin))
    assert response.status_code == 422, response.text
    document = (await client.get("/openapi.json")).json()
    declared = document["components"]["schemas"][schema]["properties"][field]
    blank = next(iter(body.values()))
    value = blank[0][field] if isinstance(blank, list) else blank
    validator = jsonschema_rs.validator_for(declared)
    assert not validator.is_valid(value), f"{schema}.{field} lets {value!r} through"


@pytest.mark.parametrize(
    "character",
    ["\x85", "\ufeff", "\xa0", "\u2028", "\u3000", "\u180e", "\u200b", "\x1f", "é"],
    ids=ascii,
)
async def test_a_link_url_is_refused_by_the_contract_exactly_when_the_service_refuses_it(
    client: httpx.AsyncClient, admin: dict[str, str], character: str
) -> None:
    """Whitespace in the published pattern's regex dialect (ECMA-262, as jsonschema-rs reads
    it) is whitespace to the service: U+0085 is, U+FEFF is not."""
    url = f"https://example.nhs.wales/c4{character}run-chart"
    body = project(links=[{"title": "Run chart", "url": url}])
    response = await client.post("/improvementProjects", json=body, headers=auth(admin))
    assert response.status_code in (201, 422), response.text
    document = (await client.get("/openapi.json")).json()
    declared = document["components"]["schemas"]["ProjectLink"]["properties"]["url"]
    assert jsonschema_rs.validator_for(declared).is_valid(url) == (response.status_code == 201)
