"""GET/POST /awardRules: versions as data, the highest current, malformed parts named."""

import copy
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.awards.rules_document import DEFAULT_RULES_JSON
from app.models import AwardEvaluationJob
from tests.conftest import ClientFactory, auth


def gold_needs(mentored: Any) -> dict[str, Any]:
    document = copy.deepcopy(DEFAULT_RULES_JSON)
    document["levels"]["gold"]["minimumMentoredProjects"] = mentored
    return document


async def test_version_1_is_seeded_and_current(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    reader = await make_client(["awards:read"])
    current = await client.get("/awardRules", headers=auth(reader))
    assert current.status_code == 200, current.text
    body = current.json()
    assert (body["version"], body["current"], body["createdBy"]) == (1, True, None)
    assert body["document"] == DEFAULT_RULES_JSON
    assert (await client.get("/awardRules/1", headers=auth(reader))).json() == body


async def test_an_unknown_version_is_404(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    response = await client.get("/awardRules/99", headers=auth(await make_client()))
    assert response.status_code == 404
    assert response.json()["detail"] == "No award rules version 99."


async def test_posting_rules_creates_the_next_version_and_makes_it_current(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    writer = await make_client(["awards:read", "awards:write"])
    created = await client.post("/awardRules", json=gold_needs(3), headers=auth(writer))
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith("/awardRules/2")
    body = created.json()
    assert (body["version"], body["current"], body["createdBy"]) == (2, True, writer["client_id"])
    assert body["document"]["levels"]["gold"]["minimumMentoredProjects"] == 3
    assert (await client.get("/awardRules", headers=auth(writer))).json()["version"] == 2
    assert (await client.get("/awardRules/1", headers=auth(writer))).json()["current"] is False


async def test_a_malformed_document_is_422_naming_the_path_and_stores_nothing(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    writer = await make_client()
    response = await client.post("/awardRules", json=gold_needs(0), headers=auth(writer))
    assert response.status_code == 422
    problem = response.json()
    assert [p["name"] for p in problem["invalidParams"]] == ["levels.gold.minimumMentoredProjects"]
    assert (await client.get("/awardRules", headers=auth(writer))).json()["version"] == 1


async def test_a_document_missing_a_level_is_422(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    document = copy.deepcopy(DEFAULT_RULES_JSON)
    del document["levels"]["silver"]
    response = await client.post("/awardRules", json=document, headers=auth(await make_client()))
    assert response.status_code == 422
    assert response.json()["invalidParams"] == [
        {"name": "levels.silver", "reason": "Field required."}
    ]


async def test_posting_rules_needs_awards_write(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    reader = await make_client(["awards:read"])
    response = await client.post("/awardRules", json=DEFAULT_RULES_JSON, headers=auth(reader))
    assert response.status_code == 403
    assert (await client.get("/awardRules")).status_code == 401


async def test_a_client_limited_to_some_organisations_may_not_change_the_rules(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    limited = await make_client(organisations=["7A4"])
    response = await client.post("/awardRules", json=DEFAULT_RULES_JSON, headers=auth(limited))
    assert response.status_code == 403
    assert "every organisation" in response.json()["detail"]


async def test_a_new_version_queues_its_re_evaluation_and_supersedes_older_jobs(
    client: httpx.AsyncClient, make_client: ClientFactory, session: AsyncSession
) -> None:
    writer = await make_client()
    for mentored in (3, 4):
        response = await client.post("/awardRules", json=gold_needs(mentored), headers=auth(writer))
        assert response.status_code == 201
    jobs = (await session.scalars(select(AwardEvaluationJob).order_by(AwardEvaluationJob.id))).all()
    assert [(j.rules_version, j.status) for j in jobs] == [(2, "superseded"), (3, "pending")]


async def test_posting_rules_is_audited(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    writer = await make_client()
    await client.post("/awardRules", json=gold_needs(3), headers=auth(writer))
    records = await client.get("/auditRecords?resourceType=awardRules", headers=auth(writer))
    assert [(r["action"], r["resourceId"], r["outcome"]) for r in records.json()["data"]] == [
        ("create", "2", "success")
    ]
