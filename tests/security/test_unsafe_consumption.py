"""OWASP API10 (unsafe consumption of APIs): what HR and e-learning systems send is data, never
code. CSV uploads keep formula-looking cells as the text they are; uptake CSV answers cannot
carry a formula into a spreadsheet; xAPI statements over the size limit or malformed are
refused before anything is stored."""

import csv
import io
import json
from typing import Any

import httpx
from pydantic import BaseModel

from app.core.settings import Settings
from app.uptake.csv_format import csv_response
from tests.completions.conftest import BRONZE_COURSE
from tests.completions.factories import BRONZE
from tests.completions.xapi_examples import V, statement
from tests.conftest import ClientFactory, auth
from tests.staff.factories import seed_organisations

FORMULAS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    '=HYPERLINK("https://evil.example","Click")',
    "=cmd|' /C calc'!A0",
]


async def _admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    admin = await make_client()
    await seed_organisations(client, admin)
    response = await client.put(f"/courses/{BRONZE}", json=BRONZE_COURSE, headers=auth(admin))
    assert response.status_code == 201, response.text
    return admin


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([header, *rows])
    return out.getvalue().encode()


async def test_formula_looking_cells_of_a_staff_csv_are_stored_as_text(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await _admin(client, make_client)
    header = ["employeeNumber", "givenName", "familyName", "staffGroup", "jobTitle", "startDate"]
    rows = [
        [f"80000{i}", formula, formula, "03", formula, "2019-04-01"]
        for i, formula in enumerate(FORMULAS)
    ]
    response = await client.post(
        "/staffBatches?mode=upsert&organisation=7A4",
        content=_csv(header, rows),
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == len(FORMULAS)
    for i, formula in enumerate(FORMULAS):
        stored = (await client.get(f"/staff/80000{i}", headers=auth(admin))).json()
        assert (stored["givenName"], stored["familyName"], stored["jobTitle"]) == (formula,) * 3


async def test_formula_looking_cells_of_a_completion_csv_are_stored_as_text(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await _admin(client, make_client)
    header = ["externalId", "employeeNumber", "courseCode", "completedAt", "passed"]
    rows = [[formula, "100001", BRONZE, "2026-01-15T10:30:00Z", "true"] for formula in FORMULAS]
    response = await client.post(
        "/completionBatches",
        content=_csv(header, rows),
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    listed = (await client.get("/completions", headers=auth(admin))).json()["data"]
    assert sorted(c["externalId"] for c in listed) == sorted(FORMULAS)


class _Row(BaseModel):
    organisation: str
    note: str | None
    count: int


def test_uptake_csv_cells_that_would_run_as_formulas_are_quoted_as_text() -> None:
    rows = [_Row(organisation=f, note=f, count=-1) for f in FORMULAS]
    rows.append(_Row(organisation="7A4", note="\tTabbed", count=3))
    rows.append(_Row(organisation="7A6", note=None, count=0))
    body = csv_response(_Row, rows).body
    parsed = list(csv.reader(io.StringIO(bytes(body).decode())))
    assert parsed[0] == ["organisation", "note", "count"]
    assert parsed[1:] == [
        *([f"'{f}", f"'{f}", "-1"] for f in FORMULAS),
        ["7A4", "'\tTabbed", "3"],
        ["7A6", "", "0"],
    ]


async def test_an_xapi_body_over_the_size_limit_is_a_413_problem_and_stores_nothing(
    client: httpx.AsyncClient, make_client: ClientFactory, settings: Settings
) -> None:
    admin = await _admin(client, make_client)
    one = statement({"mbox": "mailto:person100001@wales.nhs.uk"})
    del one["id"]
    size = len(json.dumps(one)) + 1
    body: list[dict[str, Any]] = [one] * (settings.max_request_body_bytes // size + 1)
    response = await client.post(
        "/xapi/statements",
        content=json.dumps(body).encode(),
        headers={**auth(admin), **V, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")
    assert (await client.get("/completions", headers=auth(admin))).json()["data"] == []


async def test_xapi_statements_that_are_not_statements_are_400_naming_the_property(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    admin = await _admin(client, make_client)
    who = {"mbox": "mailto:person100001@wales.nhs.uk"}
    cases = {
        "object.id": statement(who, object={"id": "not an IRI"}),
        "verb.id": statement(who, verb={"id": 12}),
        "actor": statement(who, actor="=cmd|' /C calc'!A0"),
        "__proto__": {**statement(who), "__proto__": {"admin": True}},
        "result.score.scaled": statement(who, result={"score": {"scaled": "1e9999"}}),
    }
    for name, sent in cases.items():
        response = await client.post("/xapi/statements", json=sent, headers={**auth(admin), **V})
        assert response.status_code == 400, (name, response.text)
        assert [p["name"] for p in response.json()["invalidParams"]] == [name]
    assert (await client.get("/completions", headers=auth(admin))).json()["data"] == []
