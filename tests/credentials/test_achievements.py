"""The public issuer Profile and the Achievements of Bronze, Silver and Gold (no token)."""

import copy

import httpx
import pytest

from app.awards.rules_document import DEFAULT_RULES_JSON
from tests.conftest import AppClient, ClientFactory, auth
from tests.credentials.conftest import ob_validator, schema_errors


@pytest.mark.parametrize("level", ["bronze", "silver", "gold"])
async def test_each_level_is_a_valid_achievement_at_its_own_public_url(
    client: httpx.AsyncClient, level: str
) -> None:
    response = await client.get(f"/credentials/achievements/{level}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == f"http://testserver/credentials/achievements/{level}"
    assert body["name"] == f"IQT {level.capitalize()}"
    assert body["image"]["id"].startswith("data:image/svg+xml;base64,")
    assert body["creator"]["id"] == "http://testserver/credentials/issuer"
    assert schema_errors(ob_validator("Achievement"), body) == []


async def test_the_criteria_follow_the_current_award_rules(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    before = (await client.get("/credentials/achievements/gold")).json()
    assert "at least 2 approved improvement projects" in before["criteria"]["narrative"]
    rules = copy.deepcopy(DEFAULT_RULES_JSON)
    rules["levels"]["gold"]["minimumMentoredProjects"] = 3
    posted = await client.post("/awardRules", json=rules, headers=auth(await make_client()))
    assert posted.status_code == 201, posted.text
    narrative = (await client.get("/credentials/achievements/gold")).json()["criteria"]["narrative"]
    assert "at least 3 approved improvement projects" in narrative
    assert f"version {posted.json()['version']} of the IQT award rules" in narrative


async def test_an_unknown_level_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/credentials/achievements/platinum")
    assert response.status_code == 422
    assert [p["name"] for p in response.json()["invalidParams"]] == ["level"]


async def test_the_issuer_profile_is_public(client: httpx.AsyncClient) -> None:
    body = (await client.get("/credentials/issuer")).json()
    assert body["id"] == "http://testserver/credentials/issuer"
    assert body["type"] == ["Profile"]
    assert schema_errors(ob_validator("Profile"), body) == []


async def test_urls_are_built_from_the_public_base_url_whatever_the_host(
    app_client: AppClient,
) -> None:
    async with app_client(public_base_url="https://iqt.example.nhs.wales") as client:
        body = (await client.get("/credentials/achievements/silver")).json()
    assert body["id"] == "https://iqt.example.nhs.wales/credentials/achievements/silver"
    assert body["creator"]["id"] == "https://iqt.example.nhs.wales/credentials/issuer"
