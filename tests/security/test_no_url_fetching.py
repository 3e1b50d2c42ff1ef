"""OWASP API7 (server side request forgery): the service stores the URLs and IRIs it is given
(xAPI activity, verb and account IRIs, course activity ids, project links) as text and never
fetches them: no module of the application imports an HTTP client, and a listener that every
such URL points at receives no connection."""

import ast
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.completions.conftest import BRONZE_COURSE
from tests.completions.factories import BRONZE
from tests.completions.xapi_examples import V, statement
from tests.conftest import ROOT, ClientFactory, auth
from tests.projects.factories import LEAD, project, team
from tests.staff.factories import person, seed_organisations

CLIENT_MODULES = {
    "httpx",
    "requests",
    "urllib.request",
    "urllib3",
    "aiohttp",
    "http.client",
    "pycurl",
    "socket",
    "ftplib",
    "smtplib",
}
# Modules of the application allowed one of the above, and why.
ALLOWED = {("app/core/leases.py", "socket"): "socket.gethostname() names a job's lease holder."}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_no_application_module_imports_a_network_client() -> None:
    found = sorted(
        (str(path.relative_to(ROOT)), name)
        for path in (ROOT / "app").rglob("*.py")
        for name in _imports(path)
        if name in CLIENT_MODULES
    )
    assert found == sorted(ALLOWED)
    for path in (ROOT / "app").rglob("*.py"):
        assert "open_connection" not in path.read_text(encoding="utf-8"), path


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A TCP socket on a free local port, listening: any fetch of its URL would connect."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.5)
        yield server, f"http://127.0.0.1:{server.getsockname()[1]}"


def _nobody_connected(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except TimeoutError:
        return True
    connection.close()
    return False


async def test_urls_in_courses_statements_and_projects_are_never_fetched(
    client: httpx.AsyncClient,
    make_client: ClientFactory,
    listener: tuple[socket.socket, str],
) -> None:
    server, base = listener
    admin = await make_client()
    headers = auth(admin)
    await seed_organisations(client, admin)
    await client.put(f"/staff/{LEAD}", json=person(LEAD), headers=headers)
    activity = f"{base}/xapi/activities/iqt-bronze"
    course = {**BRONZE_COURSE, "xapiActivityIds": [activity]}
    assert (await client.put(f"/courses/{BRONZE}", json=course, headers=headers)).status_code == 201
    sent = statement(
        {"mbox": f"mailto:person{LEAD}@wales.nhs.uk"},
        object={"id": activity, "definition": {"moreInfo": f"{base}/more"}},
        context={"extensions": {f"{base}/extension": f"{base}/value"}},
    )
    other_verb = statement(
        {"mbox": f"mailto:person{LEAD}@wales.nhs.uk"},
        id="b3c1b5f0-5f8e-4b68-9a3e-2b0a4f1d2c3e",
        verb={"id": f"{base}/verbs/attempted"},
    )
    recorded = await client.post(
        "/xapi/statements", json=[sent, other_verb], headers={**headers, **V}
    )
    assert recorded.status_code == 200, recorded.text
    account = statement(
        {"account": {"homePage": f"{base}/home", "name": LEAD}},
        id="0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
        object={"id": activity},
    )
    kept = await client.post("/xapi/statements", json=account, headers={**headers, **V})
    assert kept.status_code == 200, kept.text  # not this client's homePage: kept, not looked up
    linked = project(team=team((LEAD, "lead")), links=[{"title": "Chart", "url": f"{base}/c"}])
    created = await client.post("/improvementProjects", json=linked, headers=headers)
    assert created.status_code == 201, created.text
    completions = (await client.get("/completions", headers=headers)).json()["data"]
    assert [c["courseCode"] for c in completions] == [BRONZE]

    assert _nobody_connected(server)
