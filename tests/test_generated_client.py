"""A client generated from the served document sends batches, as an integrator's would.

openapi-python-client (pinned in pyproject's client-generator group, installed by `make
generator` into a venv of its own) generates the client offline into a temporary directory;
the test imports it and sends a CSV staff batch and completion batches (JSON and CSV) through
it, against the app in this process (httpx's ASGI transport, given to the generated client). A
missing generator fails the test: it is never skipped.

This generator skips text/csv bodies: CSV goes as application/octet-stream, which both batch
operations declare (see app.core.batch_bodies.batch_request_body).
"""

import asyncio
import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, ClientFactory, auth
from tests.staff.factories import seed_organisations

pytestmark = pytest.mark.slow  # a generator run: not the inner loop

GENERATOR = ROOT / ".venv" / "client-generator" / "bin" / "openapi-python-client"
PACKAGE = "iqt_generated_client"

BRONZE_COURSE = {
    "title": "Improving Quality Together: Bronze",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
}

STAFF_CSV = (
    "employeeNumber,givenName,familyName,organisation,staffGroup,startDate\r\n"
    "10293847,Siân,Llŷr,7A4,03,01/04/2019\r\n"
    "10293848,Bad,Date,7A4,03,31/02/2020\r\n"
)
COMPLETIONS_CSV = (
    "externalId,employeeNumber,courseCode,completedAt,passed,scoreScaled\r\n"
    "moodle-cc-88214,10293847,IQT-BRONZE,2026-11-21T09:30:00Z,yes,0.75\r\n"
    "moodle-cc-88215,10293847,IQT-GOLD,2026-11-21T09:45:00Z,yes,\r\n"
)
COMPLETION = {
    "externalId": "moodle-cc-88213",
    "employeeNumber": "10293847",
    "courseCode": "IQT-BRONZE",
    "completedAt": "2026-11-20T14:03:00Z",
    "passed": True,
    "scoreScaled": 0.9,
}


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Path]:
    """Where the generated package is written; it is unimported afterwards."""
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


class _OnTheTestLoop(httpx.BaseTransport):
    """A sync transport for the generated client's sync API, run in a worker thread: each
    request goes to the app through the ASGI transport on the test's event loop. (The async
    API cannot send a file body: httpx's AsyncClient refuses the sync stream it makes.)"""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.asgi = httpx.ASGITransport(app=app)
        self.loop = loop

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def send() -> httpx.Response:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=content
            )
            response = await self.asgi.handle_async_request(forwarded)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result()


def _generate(document: dict[str, Any], into: Path) -> None:
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: run `make generator` first")
    (into / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    (into / "config.json").write_text(json.dumps({"post_hooks": []}), encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - our own pinned tool and temporary files
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(into / "openapi.json"),
            "--config",
            str(into / "config.json"),
            "--meta",
            "none",
            "--output-path",
            str(into / PACKAGE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_a_generated_client_sends_csv_and_json_batches(
    client: httpx.AsyncClient, make_client: ClientFactory, app: Any, generated: Path
) -> None:
    admin = await make_client(name="HR and e-learning")
    await seed_organisations(client, admin)
    course = await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(admin))
    assert course.status_code == 201, course.text
    document = (await client.get("/openapi.json")).json()
    _generate(document, generated)

    api = importlib.import_module(PACKAGE)
    types = importlib.import_module(f"{PACKAGE}.types")
    batch_mode = importlib.import_module(f"{PACKAGE}.models.batch_mode").BatchMode
    post_staff_batch = importlib.import_module(f"{PACKAGE}.api.staff.post_staff_batch")
    post_completion_batch = importlib.import_module(
        f"{PACKAGE}.api.completions.post_completion_batch"
    )
    completion_batch = importlib.import_module(f"{PACKAGE}.models.completion_batch")
    generated_client = api.AuthenticatedClient(
        base_url="http://testserver",
        token=admin["Authorization"].removeprefix("Bearer "),
        httpx_args={"transport": _OnTheTestLoop(app, asyncio.get_running_loop())},
    )

    def send_batches() -> tuple[Any, Any, Any]:
        with generated_client as hr:
            staff = post_staff_batch.sync_detailed(
                client=hr,
                body=types.File(payload=BytesIO(STAFF_CSV.encode()), file_name="staff.csv"),
                mode=batch_mode.UPSERT,
                organisation="7A4",
            )
            completions = post_completion_batch.sync_detailed(
                client=hr,
                body=completion_batch.CompletionBatch.from_dict({"records": [COMPLETION]}),
            )
            csv_completions = post_completion_batch.sync_detailed(
                client=hr,
                body=types.File(
                    payload=BytesIO(COMPLETIONS_CSV.encode()), file_name="completions.csv"
                ),
                idempotency_key='"moodle-export-2026-11-21"',
            )
            return staff, completions, csv_completions

    staff, completions, csv_completions = await asyncio.to_thread(send_batches)
    assert staff.status_code == 200, staff.content
    assert (staff.parsed.created, staff.parsed.rejected) == (1, 1)
    assert staff.parsed.rejections[0].row == 2
    assert completions.status_code == 200, completions.content
    assert (completions.parsed.recorded, completions.parsed.matched) == (1, 1)
    assert csv_completions.status_code == 200, csv_completions.content
    csv_result = csv_completions.parsed
    assert (csv_result.received, csv_result.recorded, csv_result.matched) == (2, 1, 1)
    assert [(r.row, r.external_id) for r in csv_result.rejections] == [(2, "moodle-cc-88215")]
    assert csv_result.rejections[0].reasons[0]["name"] == "courseCode"

    stored = (await client.get("/staff/10293847", headers=auth(admin))).json()
    assert (stored["familyName"], stored["startDate"]) == ("Llŷr", "2019-04-01")
    listed = (await client.get("/completions", headers=auth(admin))).json()["data"]
    assert sorted((c["externalId"], c["scoreScaled"]) for c in listed) == [
        ("moodle-cc-88213", 0.9),
        ("moodle-cc-88214", 0.75),
    ]
