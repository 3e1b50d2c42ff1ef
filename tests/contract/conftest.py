"""Fuzzing harness: a second app instance that schemathesis drives in its own event loop
thread, reference data for the generated requests to reach, and the case counts reported."""

import base64
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.settings import Settings
from app.courses.service import IQT_BRONZE
from app.main import create_app
from app.models import AwardEvaluationJob, AwardRules
from tests.completions.factories import completion
from tests.conftest import ClientFactory, auth
from tests.projects.factories import create_project, seed_people
from tests.staff.factories import person

# Generated cases sent, per client; printed at the end of the run.
CASES: Counter[str] = Counter()

# The ids the schema's examples name are the ones seeded here, so the examples and coverage
# phases reach stored resources (and their organisation checks) instead of answering 404.
EMPLOYEE_NUMBER = "10293847"
BOARD_MEETING = "7A4-2026-11-05"


@dataclass(frozen=True)
class FuzzClient:
    name: str
    client_id: str
    client_secret: str
    bearer: str

    def headers_for(self, operation: Any) -> dict[str, str]:
        """The credentials the operation declares: HTTP Basic for the token endpoint, the
        bearer token elsewhere, none for the health checks."""
        schemes = {name for need in operation.definition.raw.get("security", []) for name in need}
        if "HTTPBasic" in schemes:
            pair = f"{self.client_id}:{self.client_secret}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if schemes:
            return {"Authorization": self.bearer}
        return {}


class DeferredApp:
    """An ASGI app that forwards to the one a fixture sets. Schemathesis reads the document at
    import, before the test database exists; the app under test is built by ``fuzz_app``."""

    target: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.target(scope, receive, send)


TARGET = DeferredApp()


@pytest.fixture(scope="session")
def fuzz_app(settings: Settings, engine: AsyncEngine) -> Any:
    """Its own instance: schemathesis calls it from a thread with its own event loop, and
    database connections must not cross loops. No background jobs: rules posted by the fuzzer
    must not start re-evaluations that outlive the test."""
    TARGET.target = create_app(settings.model_copy(update={"run_background_jobs": False}))
    return TARGET.target


@pytest.fixture
async def seeded(
    client: httpx.AsyncClient, make_client: ClientFactory, engine: AsyncEngine
) -> AsyncIterator[dict[str, Any]]:
    """Organisations 7A4 and 7A6 with staff, the IQT course, a project, a completion that
    granted Bronze, an award and a board meeting; the ids of what was created."""
    admin = await make_client(name="fuzz seeding")
    await seed_people(client, admin)
    for number, organisation in ((EMPLOYEE_NUMBER, "7A4"), ("20293847", "7A6")):
        response = await client.put(
            f"/staff/{number}", json=person(number, organisation=organisation), headers=auth(admin)
        )
        assert response.status_code == 201, response.text
    response = await client.put(
        "/courses/IQT-BRONZE",
        json=IQT_BRONZE.model_dump(mode="json", by_alias=True, exclude_none=True),
        headers=auth(admin),
    )
    assert response.status_code in (200, 201), response.text
    project = await create_project(client, admin)
    response = await client.post(
        "/completions", json=completion("fuzz-1", EMPLOYEE_NUMBER), headers=auth(admin)
    )
    assert response.status_code == 201, response.text
    completion_id = response.json()["id"]
    awards = await client.get(f"/staff/{EMPLOYEE_NUMBER}/awards", headers=auth(admin))
    assert awards.status_code == 200, awards.text
    response = await client.put(
        f"/boardMeetings/{BOARD_MEETING}",
        json={"organisation": "7A4", "meetingDate": "2026-11-05", "qiDiscussed": True},
        headers=auth(admin),
    )
    assert response.status_code == 201, response.text
    yield {
        "projectId": project["id"],
        "completionId": completion_id,
        "awardId": awards.json()["data"][0]["id"],
    }
    # Rules versions live in a table the harness keeps (version 1 is seeded): drop the rest.
    async with engine.begin() as connection:
        await connection.execute(delete(AwardEvaluationJob))
        await connection.execute(delete(AwardRules).where(AwardRules.version > 1))


def load_schema() -> Any:
    """The document the app serves, with requests sent to the app ``fuzz_app`` builds."""
    settings = Settings(
        database_url="sqlite://",
        run_background_jobs=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    schema = schemathesis.openapi.from_dict(create_app(settings).openapi())
    schema.app = TARGET
    return schema


def path_examples(schema: Any) -> dict[str, Any]:
    """The example of each path parameter: cases that use it are sent to the seeded one."""
    examples: dict[str, Any] = {}
    for operations in schema.raw_schema["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                found = parameter.get("schema", {}).get("examples") or parameter.get("examples")
                if parameter["in"] == "path" and found:
                    examples.setdefault(parameter["name"], set()).update(
                        found if isinstance(found, list) else [e["value"] for e in found.values()]
                    )
    return examples


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CASES:
        terminalreporter.section("schemathesis")
        for name, count in sorted(CASES.items()):
            terminalreporter.write_line(f"{name}: {count} generated cases sent")
        terminalreporter.write_line(f"total: {sum(CASES.values())} generated cases sent")
