"""A statement and the one naming it by StatementRef, stored at the same moment by two
requests on PostgreSQL (neither sees the other's uncommitted row): a query by the target's
filters still finds the statement naming it."""

import asyncio
from typing import Any

import httpx
import pytest

from app.auth.caller import Caller
from app.completions import xapi_repository
from app.completions.xapi import receive_statements
from tests.completions.xapi_examples import MBOX, V, statement
from tests.conftest import auth, backend_pid, until_waiting_for_a_lock
from tests.statements import statements_run

pytestmark = pytest.mark.postgresql

ATTEMPTED = {"id": "http://adlnet.gov/expapi/verbs/attempted"}
TARGET = "00000000-0000-4000-8000-000000000001"
NAMING = "00000000-0000-4000-8000-000000000002"


def _target() -> dict[str, Any]:
    return statement(MBOX, id=TARGET, verb=ATTEMPTED)


def _naming() -> dict[str, Any]:
    return statement(MBOX, id=NAMING, object={"objectType": "StatementRef", "id": TARGET})


async def _store(session: Any, caller: Caller, body: dict[str, Any]) -> list[str]:
    return await receive_statements(
        session, caller, body, version="1.0.3", authority_home_page="http://testserver"
    )


async def _found(client: httpx.AsyncClient, lms: dict[str, str]) -> list[str]:
    response = await client.get(
        "/xapi/statements", params={"verb": ATTEMPTED["id"]}, headers={**auth(lms), **V}
    )
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["statements"]]


@pytest.mark.parametrize("first", ["target", "naming"])
async def test_two_requests_storing_a_statement_and_the_one_naming_it_link_them(
    app: Any, client: httpx.AsyncClient, lms: dict[str, str], first: str
) -> None:
    """The first request has stored its statement and not committed; the second waits for
    its commit, then finds it."""
    caller = Caller(
        client_id=lms["client_id"], scopes=frozenset(), organisations=None, request_id="race"
    )
    bodies = {"target": _target(), "naming": _naming()}
    second = "naming" if first == "target" else "target"
    async with app.state.sessionmaker() as one, app.state.sessionmaker() as other:
        await _store(one, caller, bodies[first])
        other_pid = await backend_pid(other)
        storing = asyncio.create_task(_store(other, caller, bodies[second]))
        await until_waiting_for_a_lock(app.state.engine, other_pid, storing)
        await one.commit()
        await storing
        await other.commit()
    assert sorted(await _found(client, lms)) == [TARGET, NAMING]


def _with_bucket(bucket: int, prefix: str) -> str:
    """A statement id whose lock bucket is ``bucket``."""
    for n in range(100_000):
        candidate = f"{prefix}-0000-4000-8000-{n:012d}"
        if xapi_repository._reference_bucket(candidate) == bucket:
            return candidate
    raise AssertionError(f"no id found in bucket {bucket}")


async def test_reference_locks_are_taken_in_one_increasing_order_whatever_their_mode(
    app: Any,
) -> None:
    """Two requests each naming a target the other is about to store must not each hold a
    bucket the other waits for: exclusive and shared buckets are taken in one order."""
    sent = [_with_bucket(b, "00000000") for b in (3, 9)]
    missing = [_with_bucket(b, "11111111") for b in (1, 5, 12)]
    with statements_run(app) as run:
        async with app.state.sessionmaker() as session:
            await xapi_repository.lock_references(session, sent, missing)
            await session.rollback()
    taken = [
        bucket
        for statement, parameters in run
        if "pg_advisory_xact_lock" in statement
        for bucket in next(p for p in parameters if isinstance(p, list))
    ]
    assert taken == [1, 3, 5, 9, 12]
