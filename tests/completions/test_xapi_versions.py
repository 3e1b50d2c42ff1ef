"""Version negotiation on every xAPI resource, served or not: xAPI refuses a request without
X-Experience-API-Version to any resource but About with 400, before anything else, naming the
latest version this LRS speaks (IQT_XAPI_VERSIONS)."""

import httpx
import pytest
from pydantic import ValidationError

from app.core.settings import Settings
from tests.completions.xapi_examples import ACCOUNT, V, statement
from tests.conftest import AppClient, auth

# Served (checked after authentication) or not (checked first, before routing's 404).
VERSIONED = [
    "/xapi/activities",
    "/xapi/activities/profile",
    "/xapi/activities/state",
    "/xapi/agents",
    "/xapi/agents/profile",
    "/xapi/no-such-resource",
]


@pytest.mark.parametrize("path", VERSIONED)
async def test_a_resource_but_about_without_a_version_is_400(
    client: httpx.AsyncClient, lms: dict[str, str], path: str
) -> None:
    response = await client.get(path, headers=auth(lms))
    assert response.status_code == 400
    assert response.headers["x-experience-api-version"] == "2.0.0"
    assert response.json()["invalidParams"][0]["name"] == "X-Experience-API-Version"


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "POST", "DELETE"])
async def test_an_unserved_resource_with_a_version_is_404_naming_it(
    client: httpx.AsyncClient, lms: dict[str, str], method: str
) -> None:
    response = await client.request(method, "/xapi/no-such-resource", headers=auth(lms) | V)
    assert response.status_code == 404
    assert response.headers["x-experience-api-version"] == "1.0.3"
    if method != "HEAD":
        assert response.headers["content-type"] == "application/problem+json"


async def test_about_still_needs_no_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/xapi/about")
    assert response.status_code == 200
    assert "2.0.0" in response.json()["version"]


@pytest.mark.parametrize(
    ("path", "allow"), [("statements", "GET, HEAD, POST, PUT"), ("about", "GET")]
)
async def test_a_method_a_served_resource_does_not_take_stays_405(
    client: httpx.AsyncClient, lms: dict[str, str], path: str, allow: str
) -> None:
    response = await client.delete(f"/xapi/{path}", headers=auth(lms) | V)
    assert response.status_code == 405
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
async def test_an_lrs_of_1_0_only_refuses_an_unversioned_request_as_1_0_3(
    app_client: AppClient, lms: dict[str, str], method: str
) -> None:
    """xAPI 1.0.3 (Communication 3.3): the answer names the latest 1.0 patch version."""
    params = {"statementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"}
    body = statement(ACCOUNT) if method != "GET" else None
    async with app_client(xapi_versions=["1.0.3"]) as c:
        response = await c.request(
            method, "/xapi/statements", params=params, json=body, headers=auth(lms)
        )
    assert response.status_code == 400
    assert response.headers["x-experience-api-version"] == "1.0.3"
    assert "1.0.x" in response.json()["invalidParams"][0]["reason"]


async def test_an_lrs_of_1_0_only_refuses_2_0_and_does_not_list_it(
    app_client: AppClient, lms: dict[str, str]
) -> None:
    async with app_client(xapi_versions=["1.0.3"]) as c:
        refused = await c.get(
            "/xapi/statements", headers=auth(lms) | {"X-Experience-API-Version": "2.0.0"}
        )
        read = await c.get("/xapi/statements", headers=auth(lms) | V)
        about = await c.get("/xapi/about")
    assert refused.status_code == 400
    assert refused.headers["x-experience-api-version"] == "1.0.3"
    assert read.status_code == 200
    assert about.json()["version"] == ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]


async def test_an_lrs_of_2_0_only_refuses_1_0(app_client: AppClient, lms: dict[str, str]) -> None:
    async with app_client(xapi_versions=["2.0.0"]) as c:
        refused = await c.get("/xapi/statements", headers=auth(lms) | V)
        about = await c.get("/xapi/about")
    assert refused.status_code == 400
    assert refused.headers["x-experience-api-version"] == "2.0.0"
    assert about.json()["version"] == ["2.0.0"]


def test_the_versions_setting_reads_a_list_and_refuses_others() -> None:
    assert Settings(xapi_versions=" 2.0.0, 1.0.3").xapi_versions == ["1.0.3", "2.0.0"]
    with pytest.raises(ValidationError):
        Settings(xapi_versions="1.0.3,0.95")
    with pytest.raises(ValidationError):
        Settings(xapi_versions="")


async def test_options_on_the_statements_resource_names_only_its_methods(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    """Found by the fuzzer: the route of the unserved resources added its methods to Allow."""
    response = await client.options("/xapi/statements", headers=auth(lms) | V)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, PUT"


async def test_an_alternate_request_refused_without_a_version_names_the_latest_spoken(
    app_client: AppClient, lms: dict[str, str]
) -> None:
    async with app_client(xapi_versions=["1.0.3"]) as c:
        response = await c.post(
            "/xapi/statements?method=PUT&statementId=fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
            data={"content": "{}"},
            headers=auth(lms),
        )
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "statementId"
    assert response.headers["x-experience-api-version"] == "1.0.3"
