"""Version negotiation on every xAPI resource, served or not: xAPI refuses a request without
X-Experience-API-Version to any resource but About with 400, before anything else."""

import httpx
import pytest

from tests.completions.xapi_examples import V
from tests.conftest import auth

UNSERVED = [
    "/xapi/activities",
    "/xapi/activities/profile",
    "/xapi/activities/state",
    "/xapi/agents",
    "/xapi/agents/profile",
]


@pytest.mark.parametrize("path", UNSERVED)
async def test_an_unserved_resource_without_a_version_is_400(
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
    response = await client.request(method, "/xapi/activities/state", headers=auth(lms) | V)
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
