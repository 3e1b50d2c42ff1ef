"""The xAPI 1.0.x alternate request syntax: POST ...?method=X with a form body carrying the
headers, the parameters and the content of the request it stands for; refused in xAPI 2.0."""

import json
from typing import Any

import httpx
import pytest

from tests.completions.factories import count_completions
from tests.completions.xapi_examples import MBOX, V, statement
from tests.conftest import auth

STATEMENT_ID = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"


async def alternate(
    client: httpx.AsyncClient,
    method: str,
    form: dict[str, str] | None,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    http_method: str = "POST",
) -> httpx.Response:
    return await client.request(
        http_method,
        "/xapi/statements",
        params={"method": method, **(query or {})},
        data=form,
        headers=headers or {},
    )


async def test_a_put_sent_as_a_form_with_its_headers_in_the_form_is_stored(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], learner: dict[str, Any]
) -> None:
    form = {
        "statementId": STATEMENT_ID,
        "content": json.dumps(statement(MBOX, id=STATEMENT_ID)),
        "X-Experience-API-Version": "1.0.3",
        "Authorization": lms["Authorization"],
    }
    response = await alternate(client, "PUT", form)
    assert response.status_code == 204, response.text
    read = await client.get(
        "/xapi/statements", params={"statementId": STATEMENT_ID}, headers=auth(lms) | V
    )
    assert read.json()["id"] == STATEMENT_ID
    assert await count_completions(app) == 1


async def test_a_get_sent_as_a_form_answers_a_statement_result(
    client: httpx.AsyncClient, lms: dict[str, str]
) -> None:
    response = await alternate(client, "GET", {"limit": "1"}, headers=auth(lms) | V)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"statements", "more"}


async def test_the_form_keeps_the_scopes_of_the_credentials_it_carries(
    client: httpx.AsyncClient, lms: dict[str, str], make_client: Any
) -> None:
    reader = await make_client(scopes=["completions:read"])
    form = {"content": json.dumps(statement(MBOX)), "Authorization": reader["Authorization"]}
    response = await alternate(client, "POST", form, headers=V)
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("case", "name"),
    [
        ("not a POST", "method"),
        ("a parameter in the query string", "statementId"),
        ("no content", "content"),
        ("a JSON body", "Content-Type"),
        ("an unknown method", "method"),
    ],
)
async def test_a_request_breaking_the_syntax_is_400_naming_the_field(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str], case: str, name: str
) -> None:
    form = {"statementId": STATEMENT_ID, "content": json.dumps(statement(MBOX))}
    headers = auth(lms) | V
    if case == "not a POST":
        response = await alternate(client, "POST", form, headers=headers, http_method="PUT")
    elif case == "a parameter in the query string":
        query = {"statementId": STATEMENT_ID}
        response = await alternate(client, "PUT", form, headers=headers, query=query)
    elif case == "no content":
        response = await alternate(client, "PUT", {"statementId": STATEMENT_ID}, headers=headers)
    elif case == "a JSON body":
        response = await client.post(
            "/xapi/statements", params={"method": "PUT"}, json=form, headers=headers
        )
    else:
        response = await alternate(client, "PATCH", form, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["invalidParams"][0]["name"] == name
    assert await count_completions(app) == 0


async def test_a_version_in_the_form_overrides_the_header(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str]
) -> None:
    form = {
        "statementId": STATEMENT_ID,
        "content": json.dumps(statement(MBOX)),
        "X-Experience-API-Version": "0.8",
    }
    response = await alternate(client, "PUT", form, headers=auth(lms) | V)
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "X-Experience-API-Version"


async def test_xapi_2_has_no_alternate_syntax(
    client: httpx.AsyncClient, app: Any, lms: dict[str, str]
) -> None:
    form = {"statementId": STATEMENT_ID, "content": json.dumps(statement(MBOX))}
    headers = auth(lms) | {"X-Experience-API-Version": "2.0.0"}
    response = await alternate(client, "PUT", form, headers=headers)
    assert response.status_code == 400
    assert response.headers["x-experience-api-version"] == "2.0.0"
    assert await count_completions(app) == 0


@pytest.mark.parametrize("http_method", ["TRACE", "PATCH", "OPTIONS", "DELETE"])
async def test_a_method_no_statement_resource_takes_is_405_even_with_a_method_parameter(
    client: httpx.AsyncClient, lms: dict[str, str], http_method: str
) -> None:
    """Found by the fuzzer: TRACE and DELETE ...?method=GET were taken for broken alternate
    requests (400)."""
    form = {"content": json.dumps(statement(MBOX))}
    response = await alternate(client, "GET", form, headers=auth(lms) | V, http_method=http_method)
    assert response.status_code == 405, response.text
