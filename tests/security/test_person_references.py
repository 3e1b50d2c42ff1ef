"""Organisation isolation of people (issue 20): a client restricted to 7A4 that names 7A6's
people gets exactly what it gets for people who do not exist, and changes nothing of theirs.

Driven by the OpenAPI document: every operation whose parameters, request or response carry
person data is in ``CASES`` — a new one without a case fails
``test_every_operation_with_person_data_has_a_case``. Each case is one of:

- ``Named``: the operation takes a person reference. Sent with 7A6's VICTIM (by employee
  number, e-mail or xAPI actor) and with NOBODY, the answers are the same once the references
  themselves are blanked out, and no row naming VICTIM changes.
- ``Unavailable``: the reference is a global id held by another organisation's record. The
  answer is the documented "cannot be used by this client", the same for VICTIM as for MOVER
  (a person the attacker knew, since moved to 7A6), and nothing changes.
- ``Read``: the operation returns person data but takes no reference: nothing of VICTIM is in
  the answer.

Every case also reads the attacker's event feed afterwards: nothing of VICTIM is in it.
"""

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import ApiClient
from tests.completions.factories import completion
from tests.completions.xapi_examples import HOME_PAGE, V, statement
from tests.conftest import ClientFactory, auth
from tests.projects.factories import LEAD, project, review, team
from tests.security.routes import Operation, operations
from tests.security.world import (
    MOVER,
    MOVER_EMAIL,
    NOBODY,
    NOBODY_EMAIL,
    OTHER_SECRETS,
    VICTIM,
    VICTIM_EMAIL,
    VICTIM_NAME,
    Elsewhere,
    World,
    build_elsewhere,
    build_world,
    touching_victim,
)
from tests.staff.factories import batch_record, person

# Wire names that carry a person (or a reference to one).
PERSON_FIELDS = frozenset(
    {
        "employeeNumber",
        "workEmail",
        "givenName",
        "familyName",
        "matchedEmployeeNumber",
        "reviewerEmployeeNumber",
        "team",
        "actor",
        "mbox",
        "mbox_sha1sum",
    }
)
MISSING_ID = "999999999"
VICTIM_SECRETS = (VICTIM, VICTIM_EMAIL, *VICTIM_NAME)


@dataclass(frozen=True)
class Ref:
    """Whom an attack names, and the objects of theirs it reaches by id."""

    number: str
    email: str
    tag: str  # makes external and statement ids unique to this reference
    completion_id: str  # recorded by an unrestricted client
    own_completion_id: str  # recorded by the attacker itself
    award_id: str

    @property
    def sha1(self) -> str:
        return hashlib.sha1(f"mailto:{self.email}".encode()).hexdigest()  # noqa: S324

    def statement_id(self, variant: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.tag}-{variant}"))


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Named:
    calls: Callable[[World, Elsewhere, Ref], list[Call]]


@dataclass(frozen=True)
class Unavailable:
    call: Callable[[Ref], Call]
    status: int
    reason: str  # in the answer, whatever else it says


@dataclass(frozen=True)
class Read:
    call: Callable[[World, Elsewhere], Call]


def _xapi(ref: Ref) -> list[Call]:
    actors = {
        "account": {"account": {"homePage": HOME_PAGE, "name": ref.number}},
        "mbox": {"mbox": f"mailto:{ref.email}"},
        "sha1": {"mbox_sha1sum": ref.sha1},
    }
    return [
        Call("POST", "/xapi/statements", statement(who, id=ref.statement_id(name)), V)
        for name, who in actors.items()
    ]


def _xapi_put(ref: Ref) -> list[Call]:
    statement_id = ref.statement_id("put")
    body = statement({"mbox": f"mailto:{ref.email}"}, id=statement_id)
    return [Call("PUT", f"/xapi/statements?statementId={statement_id}", body, V)]


def _completions(ref: Ref) -> list[dict[str, Any]]:
    return [
        completion(f"{ref.tag}-number", number=ref.number),
        completion(f"{ref.tag}-email", number=None, workEmail=ref.email),
    ]


CASES: dict[Operation, Named | Unavailable | Read] = {
    ("GET", "/staff"): Read(lambda w, e: Call("GET", "/staff?pageSize=1000")),
    ("GET", "/staff/{employeeNumber}"): Named(lambda w, e, r: [Call("GET", f"/staff/{r.number}")]),
    ("GET", "/staff/{employeeNumber}/history"): Named(
        lambda w, e, r: [Call("GET", f"/staff/{r.number}/history")]
    ),
    ("GET", "/staff/{employeeNumber}/awards"): Named(
        lambda w, e, r: [Call("GET", f"/staff/{r.number}/awards")]
    ),
    ("GET", "/staff/{employeeNumber}/progress"): Named(
        lambda w, e, r: [Call("GET", f"/staff/{r.number}/progress")]
    ),
    ("PATCH", "/staff/{employeeNumber}"): Named(
        lambda w, e, r: [Call("PATCH", f"/staff/{r.number}", {"jobTitle": "Taken over"})]
    ),
    ("GET", "/staff/{employeeNumber}/personalData"): Named(
        lambda w, e, r: [Call("GET", f"/staff/{r.number}/personalData")]
    ),
    ("POST", "/staff/{employeeNumber}/erasureRequests"): Named(
        lambda w, e, r: [
            Call(
                "POST",
                f"/staff/{r.number}/erasureRequests",
                {"legalBasis": "objectionUpheld", "overrideReason": "Upheld by the DPO."},
            )
        ]
    ),
    ("PUT", "/staff/{employeeNumber}"): Unavailable(
        lambda r: Call("PUT", f"/staff/{r.number}", person(r.number)),
        409,
        "cannot be used by this client",
    ),
    ("POST", "/staffBatches"): Unavailable(
        lambda r: Call(
            "POST",
            "/staffBatches",
            {"mode": "upsert", "organisation": "7A4", "records": [batch_record(r.number)]},
        ),
        200,
        "Cannot be used by this client.",
    ),
    ("POST", "/completions"): Named(
        lambda w, e, r: [Call("POST", "/completions", body) for body in _completions(r)]
    ),
    ("POST", "/completionBatches"): Named(
        lambda w, e, r: [Call("POST", "/completionBatches", {"records": _completions(r)})]
    ),
    ("POST", "/xapi/statements"): Named(lambda w, e, r: _xapi(r)),
    ("PUT", "/xapi/statements"): Named(lambda w, e, r: _xapi_put(r)),
    ("GET", "/completions"): Named(
        lambda w, e, r: [Call("GET", f"/completions?employeeNumber={r.number}")]
    ),
    ("GET", "/completions/{completionId}"): Named(
        lambda w, e, r: [Call("GET", f"/completions/{r.completion_id}")]
    ),
    ("DELETE", "/completions/{completionId}"): Named(
        lambda w, e, r: [
            Call("DELETE", f"/completions/{r.own_completion_id}?reason=Recorded%20in%20error")
        ]
    ),
    ("POST", "/improvementProjects"): Named(
        lambda w, e, r: [
            Call(
                "POST",
                "/improvementProjects",
                project(team=team((LEAD, "lead"), (r.number, "mentor"))),
            )
        ]
    ),
    ("GET", "/improvementProjects"): Named(
        lambda w, e, r: [Call("GET", f"/improvementProjects?employeeNumber={r.number}")]
    ),
    ("GET", "/improvementProjects/{projectId}"): Read(
        lambda w, e: Call("GET", f"/improvementProjects/{w.project_id}")
    ),
    ("PATCH", "/improvementProjects/{projectId}"): Named(
        lambda w, e, r: [
            Call(
                "PATCH",
                f"/improvementProjects/{e.draft_project_id}",
                {"team": team((LEAD, "lead"), (r.number, "member"))},
                {"If-Match": e.draft_project_etag},
            )
        ]
    ),
    ("POST", "/improvementProjects/{projectId}/submission"): Read(
        lambda w, e: Call("POST", f"/improvementProjects/{e.draft_project_id}/submission")
    ),
    ("POST", "/improvementProjects/{projectId}/withdrawal"): Read(
        lambda w, e: Call("POST", f"/improvementProjects/{e.draft_project_id}/withdrawal")
    ),
    ("POST", "/improvementProjects/{projectId}/reviews"): Named(
        lambda w, e, r: [
            Call(
                "POST",
                f"/improvementProjects/{w.project_id}/reviews",
                review(reviewerEmployeeNumber=r.number),
            )
        ]
    ),
    ("GET", "/improvementProjects/{projectId}/reviews"): Read(
        lambda w, e: Call("GET", f"/improvementProjects/{w.project_id}/reviews")
    ),
    ("GET", "/awards"): Read(lambda w, e: Call("GET", "/awards?pageSize=1000")),
    ("POST", "/awards"): Named(
        lambda w, e, r: [
            Call(
                "POST",
                "/awards",
                {
                    "employeeNumber": r.number,
                    "level": "silver",
                    "grantedAt": "2019-06-30T00:00:00Z",
                    "reference": "IQT Silver register 2019, row 7",
                },
            )
        ]
    ),
    ("GET", "/awards/{awardId}"): Named(lambda w, e, r: [Call("GET", f"/awards/{r.award_id}")]),
    ("POST", "/awards/{awardId}/revocation"): Named(
        lambda w, e, r: [
            Call("POST", f"/awards/{r.award_id}/revocation", {"reason": "Not ours to keep."})
        ]
    ),
    ("GET", "/events"): Read(lambda w, e: Call("GET", "/events?limit=1000")),
}


def _schema_names(node: Any, schemas: dict[str, Any], seen: frozenset[str]) -> set[str]:
    """Every property name and parameter name reachable from ``node`` ($refs followed)."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            return set() if name in seen else _schema_names(schemas[name], schemas, seen | {name})
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found |= set(value)
            found |= _schema_names(value, schemas, seen)
    elif isinstance(node, list):
        for value in node:
            found |= _schema_names(value, schemas, seen)
    return found


def operations_with_person_data(app: FastAPI) -> set[Operation]:
    document = app.openapi()
    schemas = document.get("components", {}).get("schemas", {})
    found: set[Operation] = set()
    for path, items in document["paths"].items():
        for method, operation in items.items():
            names = {parameter["name"] for parameter in operation.get("parameters", [])}
            names |= _schema_names(operation.get("requestBody", {}), schemas, frozenset())
            for status, answer in operation.get("responses", {}).items():
                if status.startswith("2"):
                    names |= _schema_names(answer, schemas, frozenset())
            if names & PERSON_FIELDS:
                found.add((method.upper(), path))
    return found


def test_every_operation_with_person_data_has_a_case(app: FastAPI) -> None:
    routes = {(method, re.sub(r":\w+}", "}", path)) for method, path in operations(app)}
    assert set(CASES) <= routes
    assert operations_with_person_data(app) <= set(CASES)


@pytest.fixture
async def world(client: httpx.AsyncClient, make_client: ClientFactory) -> World:
    return await build_world(client, make_client)


@pytest.fixture
async def elsewhere(
    app: Any,
    client: httpx.AsyncClient,
    make_client: ClientFactory,
    engine: AsyncEngine,
    world: World,
) -> Elsewhere:
    found = await build_elsewhere(client, make_client, engine, world)
    async with app.state.sessionmaker() as session:  # its xAPI account names are numbers
        await session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == found.attacker["client_id"])
            .values(xapi_account_home_page=HOME_PAGE)
        )
        await session.commit()
    return found


def _victim(e: Elsewhere) -> Ref:
    return Ref(
        VICTIM, VICTIM_EMAIL, "victim", e.victim_completion_id, e.mover_completion_id,
        e.victim_award_id,
    )  # fmt: skip


def _nobody() -> Ref:
    return Ref(NOBODY, NOBODY_EMAIL, "nobody", MISSING_ID, MISSING_ID, MISSING_ID)


def _mover(e: Elsewhere) -> Ref:
    return Ref(MOVER, MOVER_EMAIL, "mover", MISSING_ID, e.mover_completion_id, MISSING_ID)


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Ids and clocks: what two otherwise identical answers may differ in.
_VOLATILE = {"id", "completionId", "createdAt", "updatedAt", "requestId", "instance", "links"}


def blanked(value: Any, ref: Ref) -> Any:
    """An answer with ``ref``'s own identifiers, ids and clocks blanked out."""
    if isinstance(value, dict):
        return {k: blanked(v, ref) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [blanked(v, ref) for v in value]
    if isinstance(value, str):
        for own, blank in (
            (ref.email, "<email>"),
            (ref.sha1, "<sha1>"),
            (ref.number, "<number>"),
            (ref.tag, "<tag>"),
        ):
            value = value.replace(own, blank)
        return _UUID.sub("<uuid>", value)
    return value


async def _send(client: httpx.AsyncClient, creds: dict[str, str], call: Call) -> httpx.Response:
    return await client.request(
        call.method, call.url, json=call.body, headers={**auth(creds), **call.headers}
    )


async def _answers(
    client: httpx.AsyncClient, creds: dict[str, str], calls: list[Call], ref: Ref
) -> list[tuple[int, Any]]:
    answers = []
    for call in calls:
        response = await _send(client, creds, call)
        body = blanked(response.json() if response.content else None, ref)
        _assert_nothing_of_7a6(repr(body))
        answers.append((response.status_code, comparable(body)))
    return answers


def comparable(value: Any) -> Any:
    """Database ids in text ("No completion 3.") blanked too: they differ between objects."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return re.sub(r"\d+", "<n>", value) if isinstance(value, str) else value


def _assert_nothing_of_7a6(text: str) -> None:
    assert [secret for secret in OTHER_SECRETS if secret in text] == [], text


@pytest.mark.parametrize("operation", sorted(CASES), ids=" ".join)
async def test_another_organisations_people_are_nobody(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    world: World,
    elsewhere: Elsewhere,
    operation: Operation,
) -> None:
    case = CASES[operation]
    attacker = elsewhere.attacker
    before = await touching_victim(engine, elsewhere.victim_staff_id)

    if isinstance(case, Named):
        victim = _victim(elsewhere)
        named = await _answers(client, attacker, case.calls(world, elsewhere, victim), victim)
        assert await touching_victim(engine, elsewhere.victim_staff_id) == before
        nobody = _nobody()
        assert named == await _answers(
            client, attacker, case.calls(world, elsewhere, nobody), nobody
        )
    elif isinstance(case, Unavailable):
        victim = _victim(elsewhere)
        response = await _send(client, attacker, case.call(victim))
        assert response.status_code == case.status, response.text
        assert case.reason in response.text
        assert await touching_victim(engine, elsewhere.victim_staff_id) == before
        mover = _mover(elsewhere)
        known_before = await _send(client, attacker, case.call(mover))
        assert (response.status_code, comparable(blanked(response.json(), victim))) == (
            known_before.status_code,
            comparable(blanked(known_before.json(), mover)),
        )
        _assert_nothing_of_7a6(repr(blanked(response.json(), victim)))
    else:
        response = await _send(client, attacker, case.call(world, elsewhere))
        assert response.status_code < 500, response.text
        # (MOVER's events from when they were in 7A4 stay in the feed: the attacker saw them.)
        assert [s for s in VICTIM_SECRETS if s in response.text] == [], response.text
        assert await touching_victim(engine, elsewhere.victim_staff_id) == before

    feed = await client.get("/events?limit=1000", headers=auth(attacker))
    assert [s for s in VICTIM_SECRETS if s in feed.text] == [], feed.text
