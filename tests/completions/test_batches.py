import gc
from typing import Any

import httpx
import pytest

from app.completions import batches
from tests.completions.conftest import AwardCalls
from tests.completions.factories import completion, count_completions, count_events, events_of
from tests.conftest import auth, collector_enabled_during
from tests.staff.factories import person
from tests.statements import statements_run


async def post_batch(
    client: httpx.AsyncClient, creds: dict[str, str], records: list[Any]
) -> httpx.Response:
    return await client.post("/completionBatches", json={"records": records}, headers=auth(creds))


async def test_a_batch_reports_recorded_matched_unmatched_and_each_rejection(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    award_calls: AwardCalls,
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    records = [
        completion("a"),
        completion("b", number="999999"),
        completion("c", courseCode="IQT-GOLD", scoreScaled=2),
        completion("a"),
        "not an object",
    ]
    response = await post_batch(client, platform, records)
    assert response.status_code == 200, response.text
    result = response.json()
    counts = ("received", "recorded", "matched", "unmatched", "unchanged", "rejected")
    assert tuple(result[k] for k in counts) == (5, 2, 1, 1, 0, 3)
    rejections = {r["row"]: r for r in result["rejections"]}
    assert sorted(rejections) == [3, 4, 5]
    assert rejections[3]["externalId"] == "c"
    assert {r["name"] for r in rejections[3]["reasons"]} == {"scoreScaled"}
    assert rejections[4]["reasons"][0]["name"] == "externalId"
    assert await count_completions(app) == 2
    assert await count_events(app, "completionRecorded") == 2
    assert len(award_calls.calls) == 1


async def test_an_unknown_course_is_rejected_by_name(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    result = (await post_batch(client, platform, [completion(courseCode="IQT-GOLD")])).json()
    assert result["rejections"][0]["reasons"] == [
        {"name": "courseCode", "reason": "Unknown course IQT-GOLD."}
    ]


async def test_resending_a_batch_changes_nothing(
    client: httpx.AsyncClient, app: Any, platform: dict[str, str]
) -> None:
    records = [completion(f"r{i}", number=f"9{i:05d}") for i in range(20)]
    first = (await post_batch(client, platform, records)).json()
    again = (await post_batch(client, platform, records)).json()
    assert (first["recorded"], again["recorded"], again["unchanged"]) == (20, 0, 20)
    assert await count_completions(app) == 20
    assert await count_events(app, "completionRecorded") == 20


async def test_a_resent_record_with_other_content_is_rejected_naming_the_fields(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    await post_batch(client, platform, [completion("a"), completion("b")])
    changed = [completion("a"), completion("b", completedAt="2026-02-01T09:00:00Z")]
    result = (await post_batch(client, platform, changed)).json()
    assert (result["unchanged"], result["rejected"]) == (1, 1)
    assert result["rejections"][0]["row"] == 2
    assert result["rejections"][0]["reasons"][0]["name"] == "completedAt"


async def test_csv_with_bom_crlf_and_quotes(
    client: httpx.AsyncClient, admin: dict[str, str], platform: dict[str, str]
) -> None:
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    csv_text = (
        "\ufeffexternalId,employeeNumber,workEmail,courseCode,completedAt,passed,scoreScaled\r\n"
        '"m,1",100001,,IQT-BRONZE,2026-01-15T10:30:00Z,yes,0.75\r\n'
        "m2,,Person7@wales.nhs.uk,IQT-BRONZE,2026-01-15T10:30:00+00:00,N,\r\n"
        "m3,100001,,IQT-BRONZE,15/01/2026,true,\r\n"
    )
    response = await client.post(
        "/completionBatches",
        content=csv_text.encode(),
        headers={**auth(platform), "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["recorded"], result["matched"], result["rejected"]) == (2, 1, 1)
    assert result["rejections"][0]["reasons"][0]["name"] == "completedAt"
    listed = (await client.get("/completions", headers=auth(platform))).json()["data"]
    assert [(c["externalId"], c["passed"], c["scoreScaled"]) for c in listed] == [
        ("m,1", True, 0.75),
        ("m2", False, None),
    ]


async def test_a_csv_sent_as_octet_stream_is_read_as_csv(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    """What generated clients send (openapi-python-client cannot send text/csv)."""
    response = await client.post(
        "/completionBatches",
        content=b"externalId,employeeNumber,courseCode,completedAt,passed\r\n"
        b"oct-1,100001,IQT-BRONZE,2026-01-15T10:00:00Z,yes\r\n",
        headers={**auth(platform), "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["recorded"] == 1
    listed = (await client.get("/completions", headers=auth(platform))).json()["data"]
    assert [(c["externalId"], c["passed"]) for c in listed] == [("oct-1", True)]


async def test_a_csv_with_unknown_columns_is_422(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    response = await client.post(
        "/completionBatches",
        content=b"externalId,courseCode,completedAt,grade\r\n",
        headers={**auth(platform), "Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    assert response.json()["invalidParams"] == [{"name": "grade", "reason": "Unknown column."}]


async def test_more_than_10000_records_is_413(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    response = await post_batch(client, platform, [{"externalId": str(i)} for i in range(10_001)])
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_another_media_type_is_415(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    response = await client.post(
        "/completionBatches",
        content=b"<x/>",
        headers={**auth(platform), "Content-Type": "text/xml"},
    )
    assert response.status_code == 415


@pytest.mark.parametrize("size", [5, 200])
@pytest.mark.usefixtures("no_award_evaluation")
async def test_a_batch_writes_with_the_same_statements_whatever_its_size(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str], size: int
) -> None:
    """Set-based: a fixed number of statements per batch, never one per record."""
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    records = [completion(f"s{i}", number="100001" if i % 2 else f"9{i:05d}") for i in range(size)]
    with statements_run(app) as run:
        result = (await post_batch(client, platform, records)).json()
    statements = [sql for sql, _ in run]
    assert result["recorded"] == size
    assert len(statements) <= 12, statements


async def test_an_overlong_external_id_is_rejected_and_echoed_cut_short(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    response = await post_batch(client, platform, [completion("x" * 5000)])
    assert response.status_code == 200, response.text
    (rejection,) = response.json()["rejections"]
    assert rejection["reasons"][0]["name"] == "externalId"
    assert len(rejection["externalId"]) == 200 and rejection["externalId"].endswith("…")


async def test_a_batch_writes_its_completions_events_then_the_awards_events_of_one_transaction(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    award_calls: AwardCalls,
) -> None:
    """The bus writes the completions' events, then award evaluation (their handler) writes
    its own: none is lost, the feed keeps cause before effect, and the batch is evaluated once."""
    numbers = ["100001", "100002", "100003"]
    for number in numbers:
        await client.put(f"/staff/{number}", json=person(number), headers=auth(admin))
    records = [completion(f"e{n}", number=n) for n in numbers] + [completion("u", number="9")]
    result = (await post_batch(client, platform, records)).json()
    assert (result["recorded"], result["matched"]) == (4, 3)
    recorded = await events_of(app, "completionRecorded")
    granted = await events_of(app, "awardGranted")
    assert len(recorded) == 4 and len(granted) == 3
    assert {e.transaction_id for e in recorded + granted} == {recorded[0].transaction_id}
    assert max(e.id for e in recorded) < min(e.id for e in granted)
    assert sorted(e.data["employeeNumber"] for e in granted) == numbers
    assert len(award_calls.calls) == 1 and len(award_calls.calls[0]) == 3


async def test_a_batch_is_worked_out_with_collections_paused_and_resumes_them(
    client: httpx.AsyncClient, platform: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = collector_enabled_during(monkeypatch, batches, "validate_batch_records")
    response = await post_batch(client, platform, [completion("gc", number="9")])
    assert response.status_code == 200, response.text
    assert seen == [False]
    assert gc.isenabled()
