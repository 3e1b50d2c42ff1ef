"""Links and redirects come from the configured public base URL or an allowed Host, never from
an arbitrary Host header."""

import httpx
import pytest

from app.core.settings import Settings
from tests.conftest import AppClient, ClientFactory, auth
from tests.staff.factories import person, seed_organisations

PUBLIC = "https://iqt.example.nhs.wales"


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    creds = await make_client()
    await seed_organisations(client, creds)
    return creds


async def test_an_unknown_host_is_refused_before_anything_is_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    evil = {**auth(admin), "Host": "evil.example"}
    response = await client.put("/staff/100001", json=person(), headers=evil)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/bad-request")
    assert "IQT_ALLOWED_HOSTS" in response.json()["detail"]
    assert "evil.example" not in response.text
    listed = await client.get("/organisations", headers=evil)
    assert listed.status_code == 400
    assert "evil.example" not in listed.text
    assert (await client.get("/staff/100001", headers=auth(admin))).status_code == 404


async def test_an_allowed_host_with_a_port_names_the_links(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    local = {**auth(admin), "Host": "localhost:8000"}
    response = await client.put("/staff/100001", json=person(), headers=local)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "http://localhost:8000/staff/100001"


async def test_the_public_base_url_names_links_and_redirects_whatever_the_host(
    app_client: AppClient, admin: dict[str, str]
) -> None:
    async with app_client(public_base_url=PUBLIC, allowed_hosts=["*"]) as client:
        evil = {**auth(admin), "Host": "evil.example"}
        created = await client.put("/staff/100001", json=person(), headers=evil)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == f"{PUBLIC}/staff/100001"
        listed = await client.get("/staff", params={"pageSize": 1}, headers=evil)
        assert listed.status_code == 200
        assert [link["href"] for link in listed.json()["links"]] == [f"{PUBLIC}/staff?pageSize=1"]
        assert "evil.example" not in created.text + listed.text


async def test_the_public_base_urls_host_is_allowed(
    app_client: AppClient, admin: dict[str, str]
) -> None:
    async with app_client(public_base_url=PUBLIC, allowed_hosts=[]) as client:
        public = {**auth(admin), "Host": "iqt.example.nhs.wales"}
        assert (await client.get("/organisations", headers=public)).status_code == 200
        other = {**auth(admin), "Host": "testserver"}
        assert (await client.get("/organisations", headers=other)).status_code == 400


async def test_a_wildcard_allows_subdomains_only(
    app_client: AppClient, admin: dict[str, str]
) -> None:
    async with app_client(allowed_hosts=["*.nhs.wales"]) as client:
        for host, status in (("iqt.nhs.wales", 200), ("nhs.wales.evil.example", 400)):
            response = await client.get("/organisations", headers={**auth(admin), "Host": host})
            assert response.status_code == status, host


def test_hosts_and_base_url_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IQT_ALLOWED_HOSTS", "iqt.nhs.wales, 10.0.0.5")
    monkeypatch.setenv("IQT_PUBLIC_BASE_URL", f"{PUBLIC}/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.allowed_hosts == ["iqt.nhs.wales", "10.0.0.5"]
    assert settings.public_base_url == PUBLIC
    assert Settings(_env_file=None, allowed_hosts=[]).allowed_hosts == []  # type: ignore[call-arg]


@pytest.mark.parametrize("url", ["ftp://iqt.example", "https://", f"{PUBLIC}/api", f"{PUBLIC}?a"])
def test_a_public_base_url_is_a_scheme_host_and_port(url: str) -> None:
    with pytest.raises(ValueError, match="IQT_PUBLIC_BASE_URL"):
        Settings(_env_file=None, public_base_url=url)  # type: ignore[call-arg]
