"""/metrics: requests by route template, business counters counted on commit, no personal data
in labels, the metrics:read scope, and several processes' metrics added up."""

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.metrics import count_on_commit
from app.core.settings import Settings
from app.main import create_app
from tests.conftest import ROOT, ClientFactory, auth
from tests.staff.factories import batch_record, person, seed_organisations

BRONZE_COURSE = {
    "title": "Improving Quality Together: Bronze",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
}
NUMBER, EMAIL = "100001", "person100001@wales.nhs.uk"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    """Every scope; the organisations, the Bronze course and staff member 100001 exist."""
    creds = await make_client(name="admin")
    await seed_organisations(client, creds)
    course = await client.put("/courses/IQT-BRONZE", json=BRONZE_COURSE, headers=auth(creds))
    assert course.status_code == 201, course.text
    staff = await client.put(f"/staff/{NUMBER}", json=person(NUMBER), headers=auth(creds))
    assert staff.status_code == 201, staff.text
    return creds


def completion(external_id: str, number: str = NUMBER, **changes: Any) -> dict[str, Any]:
    return {
        "employeeNumber": number,
        "courseCode": "IQT-BRONZE",
        "completedAt": "2026-01-15T10:30:00Z",
        "passed": True,
        "externalId": external_id,
        **changes,
    }


async def scrape(client: httpx.AsyncClient, make_client: ClientFactory) -> list[Any]:
    """Every sample /metrics answers, read as Prometheus would."""
    prometheus = await make_client(scopes=["metrics:read"], name="prometheus")
    response = await client.get("/metrics", headers=auth(prometheus))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return [s for f in text_string_to_metric_families(response.text) for s in f.samples]


async def test_requests_are_counted_by_route_template_not_by_path(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    labels = {"method": "GET", "route": "/staff/{employeeNumber}", "status": "200"}
    before = value("iqt_http_requests_total", **labels)
    assert (await client.get(f"/staff/{NUMBER}", headers=auth(admin))).status_code == 200
    samples = await scrape(client, make_client)
    counted = [s for s in samples if s.name == "iqt_http_requests_total" and s.labels == labels]
    assert [s.value for s in counted] == [before + 1]
    durations = [
        s
        for s in samples
        if s.name == "iqt_http_request_duration_seconds_count"
        and s.labels == {"method": "GET", "route": "/staff/{employeeNumber}"}
    ]
    assert durations and durations[0].value >= 1


async def test_no_label_holds_an_employee_number_or_an_email(
    client: httpx.AsyncClient, admin: dict[str, str], make_client: ClientFactory
) -> None:
    await client.get(f"/staff/{NUMBER}", headers=auth(admin))
    await client.get(f"/staff/{EMAIL}", headers=auth(admin))
    await client.get(f"/no/such/{NUMBER}/{EMAIL}")
    await client.get("/completions", params={"employeeNumber": NUMBER}, headers=auth(admin))
    await client.post("/completions", json=completion("m-1"), headers=auth(admin))
    await client.request(f"X{NUMBER}", "/_ping")  # a method nobody should invent
    label_values = {v for s in await scrape(client, make_client) for v in s.labels.values()}
    assert "unmatched" in label_values and "other" in label_values
    assert not [v for v in label_values if NUMBER in v or "@" in v or "wales.nhs.uk" in v]


async def test_a_recorded_completion_is_counted_by_match_status(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    matched = {"channel": "api", "match_status": "matched"}
    unmatched = {"channel": "api", "match_status": "unmatched"}
    before = value("iqt_completions_recorded_total", **matched)
    before_unmatched = value("iqt_completions_recorded_total", **unmatched)
    for body in (completion("c-1"), completion("c-2", number="999999"), completion("c-1")):
        response = await client.post("/completions", json=body, headers=auth(admin))
        assert response.status_code in (200, 201), response.text
    assert value("iqt_completions_recorded_total", **matched) == before + 1  # the repeat: 0
    assert value("iqt_completions_recorded_total", **unmatched) == before_unmatched + 1


async def test_an_award_granted_and_revoked_is_counted_by_level(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    granted = {"level": "bronze", "source": "rules"}
    revoked = {"level": "bronze", "cause": "administrator"}
    before = value("iqt_awards_granted_total", **granted)
    before_revoked = value("iqt_awards_revoked_total", **revoked)
    posted = await client.post("/completions", json=completion("a-1"), headers=auth(admin))
    assert posted.status_code == 201, posted.text
    assert value("iqt_awards_granted_total", **granted) == before + 1
    awards = (await client.get(f"/staff/{NUMBER}/awards", headers=auth(admin))).json()
    award_id = awards["data"][0]["id"]
    response = await client.post(
        f"/awards/{award_id}/revocation", json={"reason": "Test."}, headers=auth(admin)
    )
    assert response.status_code == 200, response.text
    assert value("iqt_awards_revoked_total", **revoked) == before_revoked + 1


async def test_rejected_batch_records_are_counted_by_batch_kind(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    before = {kind: value("iqt_batch_records_rejected_total", batch=kind) for kind in KINDS}
    completions = [completion("b-1"), completion("b-2", courseCode="NO-SUCH-COURSE")]
    response = await client.post(
        "/completionBatches", json={"records": completions}, headers=auth(admin)
    )
    assert response.json()["rejected"] == 1, response.text
    staff = [batch_record("300001"), batch_record("300001")]  # the repeat is rejected
    response = await client.post(
        "/staffBatches", json={"mode": "upsert", "records": staff}, headers=auth(admin)
    )
    assert response.json()["rejected"] == 1, response.text
    after = {kind: value("iqt_batch_records_rejected_total", batch=kind) for kind in KINDS}
    assert after == {kind: before[kind] + 1 for kind in KINDS}
    assert value("iqt_batch_records_received_total", batch="staff") >= 2


KINDS = ("completions", "staff")


async def test_business_counts_wait_for_the_commit_and_drop_on_rollback(
    session: AsyncSession,
) -> None:
    counter = Counter("t_work", "Work done.", registry=CollectorRegistry())
    await session.execute(text("SELECT 1"))
    count_on_commit(session, counter, 2)
    assert counter._value.get() == 0
    await session.rollback()
    await session.execute(text("SELECT 1"))
    count_on_commit(session, counter, 3)
    await session.commit()
    assert counter._value.get() == 3


async def test_metrics_need_the_metrics_read_scope(
    client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    reader = await make_client(scopes=["staff:read"])
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers=auth(reader))).status_code == 403
    bad = {"Authorization": "Bearer not-a-token"}
    assert (await client.get("/metrics", headers=bad)).status_code == 401
    prometheus = await make_client(scopes=["metrics:read"])
    token = prometheus["Authorization"].split()[1]
    in_url = await client.get("/metrics", params={"access_token": token})
    assert in_url.status_code == 400


async def test_metrics_answer_while_the_database_is_unreachable(settings: Settings) -> None:
    """The token is checked from its signature alone: the scrape never needs the database."""
    from app.auth.tokens import issue_token

    down = settings.model_copy(update={"database_url": "postgresql://iqt@127.0.0.1:9/none"})
    app = create_app(down)
    token = issue_token(down, "prometheus", ["metrics:read"], None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    await app.state.engine.dispose()
    assert response.status_code == 200


async def test_metrics_can_be_switched_off(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_enabled": False}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await client.get("/metrics")).status_code == 404
    await app.state.engine.dispose()
    assert "/metrics" not in app.openapi()["paths"]


# ---- several processes ----------------------------------------------------------------------

# A worker process: the request metrics middleware over a one-route app (lighter than the
# whole service, which the scraping process runs).
WORKER = textwrap.dedent(
    """
    import asyncio, sys, httpx
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from app.core.metrics import RequestMetricsMiddleware, multiprocess_mode

    async def person(request):
        return PlainTextResponse("ok")

    async def main(requests):
        assert multiprocess_mode()
        app = RequestMetricsMiddleware(Starlette(routes=[Route("/staff/{number}", person)]))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for n in range(requests):
                assert (await client.get(f"/staff/{n}")).status_code == 200

    asyncio.run(main(int(sys.argv[1])))
    """
)

SCRAPER = textwrap.dedent(
    """
    import asyncio, sys, httpx
    from app.auth.tokens import issue_token
    from app.core.metrics import multiprocess_mode
    from app.core.settings import Settings
    from app.main import create_app

    async def main():
        assert multiprocess_mode()
        settings = Settings(database_url=sys.argv[1], run_background_jobs=False, _env_file=None)
        app = create_app(settings)
        token = issue_token(settings, "prometheus", ["metrics:read"], None)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/metrics", headers={"Authorization": "Bearer " + token})
        assert response.status_code == 200, response.text
        print(response.text)

    asyncio.run(main())
    """
)


@pytest.fixture
def multiprocess_environment(tmp_path: Path) -> Iterator[dict[str, str]]:
    directory = tmp_path / "metrics"
    directory.mkdir()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IQT_")},
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "IQT_LOG_LEVEL": "WARNING",
    }
    yield environment


@pytest.mark.slow  # real server processes
def test_metrics_of_several_processes_are_added_up(
    multiprocess_environment: dict[str, str], tmp_path: Path
) -> None:
    """Two worker processes answer 3 and 4 requests; a third, scraped, reports 7."""
    database = f"sqlite:///{tmp_path / 'unused.db'}"
    workers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", WORKER, str(n)],
            cwd=ROOT,
            env=multiprocess_environment,
        )
        for n in (3, 4)
    ]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    scraped = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SCRAPER, database],
        cwd=ROOT,
        env=multiprocess_environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    requests = {
        json.dumps(s.labels, sort_keys=True): s.value
        for f in text_string_to_metric_families(scraped.stdout)
        for s in f.samples
        if s.name == "iqt_http_requests_total"
    }
    person = json.dumps(
        {"method": "GET", "route": "/staff/{number}", "status": "200"}, sort_keys=True
    )
    assert requests[person] == 7
    files = list(Path(multiprocess_environment["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"))
    assert len({f.name.rsplit("_", 1)[-1] for f in files}) >= 2  # one file set per process
