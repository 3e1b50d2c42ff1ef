"""Cursor paging, shown on GET /organisations: stable order, next links, tamper-proof tokens."""

import random
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer
from sqlalchemy import delete

from app.auth.repository import get_client
from app.auth.tokens import issue_token
from app.core.settings import Settings
from app.models import ApiClient, Organisation
from tests.conftest import ClientFactory, auth
from tests.depth import examples

CODES = ["7A1", "7A2", "7A3", "7A4", "7A5", "7A6", "7A7", "RQF", "RT4", "RYT", "TGA"]


def _next_href(body: dict[str, Any]) -> str | None:
    hrefs = [link["href"] for link in body["links"] if link["rel"] == "next"]
    assert len(hrefs) <= 1
    return hrefs[0] if hrefs else None


def _token_of(href: str) -> str:
    return str(httpx.URL(href).params["pageToken"])


async def _create(client: httpx.AsyncClient, headers: dict[str, str], codes: list[str]) -> None:
    for code in codes:
        response = await client.put(
            f"/organisations/{code}",
            json={"name": f"Organisation {code}", "type": "trust"},
            headers=headers,
        )
        assert response.status_code == 201


async def _all_pages(
    client: httpx.AsyncClient, headers: dict[str, str], first: str
) -> list[list[str]]:
    pages: list[list[str]] = []
    href: str | None = first
    while href is not None:
        response = await client.get(href, headers=headers)
        assert response.status_code == 200
        body = response.json()
        pages.append([o["odsCode"] for o in body["data"]])
        href = _next_href(body)
        assert len(pages) <= 100, "paging does not end"
    return pages


async def test_pages_follow_a_stable_order_with_every_item_once(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    shuffled = random.sample(CODES, len(CODES))
    await _create(client, auth(creds), shuffled)
    pages = await _all_pages(client, auth(creds), "/organisations?pageSize=3")
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    assert [code for page in pages for code in page] == sorted(CODES)


async def test_item_added_while_paging_does_not_shift_pages(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await _create(client, auth(creds), ["7A3", "7A5", "7A7", "RQF"])
    first = (await client.get("/organisations?pageSize=2", headers=auth(creds))).json()
    assert [o["odsCode"] for o in first["data"]] == ["7A3", "7A5"]
    await _create(client, auth(creds), ["7A1"])  # sorts before the cursor
    href = _next_href(first)
    assert href is not None
    second = (await client.get(href, headers=auth(creds))).json()
    assert [o["odsCode"] for o in second["data"]] == ["7A7", "RQF"]


async def test_next_link_is_absent_on_the_last_page(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await _create(client, auth(creds), ["7A1", "7A2"])
    exact = (await client.get("/organisations?pageSize=2", headers=auth(creds))).json()
    assert _next_href(exact) is None
    assert [link["rel"] for link in exact["links"]] == ["self"]
    assert exact["meta"] == {"pageSize": 2, "count": 2}


async def test_next_link_keeps_page_size_and_filters(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await _create(client, auth(creds), ["7A1", "7A2", "7A3"])
    body = (await client.get("/organisations?pageSize=1&active=true", headers=auth(creds))).json()
    href = _next_href(body)
    assert href is not None
    params = httpx.URL(href).params
    assert params["pageSize"] == "1"
    assert params["active"] == "true"


async def test_default_page_size_is_100(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    body = (await client.get("/organisations", headers=auth(creds))).json()
    assert body["meta"]["pageSize"] == 100


@pytest.mark.parametrize("size", [0, -1, 1001])
async def test_page_size_out_of_range_is_400(
    client: httpx.AsyncClient, make_client: ClientFactory, size: int
) -> None:
    creds = await make_client()
    response = await client.get(f"/organisations?pageSize={size}", headers=auth(creds))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["invalidParams"][0]["name"] == "pageSize"


async def test_page_size_at_the_maximum_is_accepted(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    response = await client.get("/organisations?pageSize=1000", headers=auth(creds))
    assert response.status_code == 200


async def _a_real_token(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    await _create(client, headers, ["7A1", "7A2", "7A3"])
    href = _next_href((await client.get("/organisations?pageSize=1", headers=headers)).json())
    assert href is not None
    return _token_of(href)


def _assert_bad_token(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["invalidParams"][0]["name"] == "pageToken"


async def test_modified_page_token_is_400(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    token = await _a_real_token(client, auth(creds))
    middle = len(token) // 3
    modified = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    response = await client.get(
        "/organisations", params={"pageToken": modified}, headers=auth(creds)
    )
    _assert_bad_token(response)


async def test_page_token_forged_with_another_key_is_400(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    forged = URLSafeSerializer("guessed-key", salt="iqt.page-token").dumps(
        {"c": "organisations", "k": ["7A1"]}
    )
    response = await client.get("/organisations", params={"pageToken": forged}, headers=auth(creds))
    _assert_bad_token(response)


@pytest.mark.parametrize("token", ["", "garbage", "e30.e30", "x" * 500])
async def test_page_token_that_is_not_a_token_is_400(
    client: httpx.AsyncClient, make_client: ClientFactory, token: str
) -> None:
    creds = await make_client()
    response = await client.get("/organisations", params={"pageToken": token}, headers=auth(creds))
    _assert_bad_token(response)


async def test_page_token_of_another_collection_is_400(
    client: httpx.AsyncClient, make_client: ClientFactory, app_settings: Settings
) -> None:
    creds = await make_client()
    other = URLSafeSerializer(app_settings.token_signing_key, salt="iqt.page-token").dumps(
        {"c": "auditRecords", "k": [1]}
    )
    response = await client.get("/organisations", params={"pageToken": other}, headers=auth(creds))
    _assert_bad_token(response)


async def test_page_token_issued_by_the_audit_collection_is_refused_here(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    creds = await make_client()
    await _create(client, auth(creds), ["7A1", "7A2"])  # two audit records
    audit = (await client.get("/auditRecords?pageSize=1", headers=auth(creds))).json()
    href = _next_href(audit)
    assert href is not None
    response = await client.get(
        "/organisations", params={"pageToken": _token_of(href)}, headers=auth(creds)
    )
    _assert_bad_token(response)


@pytest.fixture
def app_settings(app: Any) -> Settings:
    settings: Settings = app.state.settings
    return settings


PROPERTY_CLIENT = "iqt_paging_property"


async def _reader_headers(app: Any) -> dict[str, str]:
    """A client that may read organisations, created once (Hypothesis reruns the test body)."""
    app_settings: Settings = app.state.settings
    async with app.state.sessionmaker() as session:
        if await get_client(session, PROPERTY_CLIENT) is None:
            session.add(
                ApiClient(
                    client_id=PROPERTY_CLIENT,
                    name="paging property",
                    secret_hash="-",
                    scopes=["organisations:read"],
                    organisations=None,
                )
            )
            await session.commit()
    token = issue_token(app_settings, PROPERTY_CLIENT, ["organisations:read"], None)
    return {"Authorization": f"Bearer {token}"}


@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    codes=st.sets(st.from_regex(r"[A-Z0-9]{3,5}", fullmatch=True), max_size=12),
    size=st.integers(min_value=1, max_value=13),
)
async def test_paging_yields_every_item_once_in_order_for_any_page_size(
    client: httpx.AsyncClient, app: Any, codes: set[str], size: int
) -> None:
    async with app.state.sessionmaker() as session:
        session.add_all(Organisation(ods_code=c, name=c, type="trust") for c in codes)
        await session.commit()
    try:
        headers = await _reader_headers(app)
        pages = await _all_pages(client, headers, f"/organisations?pageSize={size}")
        assert [code for page in pages for code in page] == sorted(codes)
        assert all(len(page) == size for page in pages[:-1])
        assert len(pages) == max(1, -(-len(codes) // size))
    finally:
        async with app.state.sessionmaker() as session:
            await session.execute(delete(Organisation))
            await session.commit()
