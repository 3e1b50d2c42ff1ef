import asyncio
import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.completions.factories import completion, count_completions, count_events, post
from tests.conftest import auth, new_engine
from tests.staff.factories import person

BARE_KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"
KEY = f'"{BARE_KEY}"'


async def test_a_retry_with_the_key_replays_the_first_answer(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    first = await post(client, platform, completion(), **{"Idempotency-Key": KEY})
    # Meanwhile HR sends the person: without the key, the answer would now be "matched".
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    again = await post(client, platform, completion(), **{"Idempotency-Key": KEY})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.json()["matchStatus"] == "unmatched"
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert await count_completions(app) == 1
    assert await count_events(app, "completionRecorded") == 1


async def test_an_unquoted_key_is_the_same_key(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    first = await post(client, platform, completion(), **{"Idempotency-Key": KEY})
    again = await post(client, platform, completion(), **{"Idempotency-Key": BARE_KEY})
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]


async def test_the_same_key_with_another_payload_is_422(
    client: httpx.AsyncClient, app: Any, platform: dict[str, str]
) -> None:
    await post(client, platform, completion(), **{"Idempotency-Key": KEY})
    response = await post(client, platform, completion("cc-2"), **{"Idempotency-Key": KEY})
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "Idempotency-Key"
    assert await count_completions(app) == 1


async def test_keys_belong_to_one_client(
    client: httpx.AsyncClient, app: Any, platform: dict[str, str], make_client: Any
) -> None:
    other = await make_client(scopes=["completions:write"])
    await post(client, platform, completion(), **{"Idempotency-Key": KEY})
    response = await post(client, other, completion("cc-2"), **{"Idempotency-Key": KEY})
    assert response.status_code == 201
    assert await count_completions(app) == 2


async def test_a_refused_request_stores_no_answer(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    refused = await post(
        client, platform, completion(courseCode="NOPE"), **{"Idempotency-Key": KEY}
    )
    assert refused.status_code == 422
    fixed = await post(client, platform, completion(), **{"Idempotency-Key": '"another"'})
    assert fixed.status_code == 201
    again = await post(client, platform, completion(courseCode="NOPE"), **{"Idempotency-Key": KEY})
    assert again.status_code == 422
    assert again.json()["invalidParams"][0]["name"] == "courseCode"


@pytest.mark.parametrize("key", [b'""', b'"a\\"b"', "é".encode(), b"x" * 256])
async def test_a_malformed_key_is_400(
    client: httpx.AsyncClient, platform: dict[str, str], key: bytes
) -> None:
    response = await client.post(
        "/completions",
        json=completion(),
        headers={**auth(platform), "Idempotency-Key": key},  # type: ignore[dict-item]
    )
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "Idempotency-Key"


@pytest.mark.postgresql
async def test_a_retry_while_the_first_is_in_flight_is_409(
    client: httpx.AsyncClient, app: Any, platform: dict[str, str], database_url: str
) -> None:
    """The first request holds the key's lock until it commits: hold it the same way."""
    digest = hashlib.blake2b(
        f"{platform['client_id']}\0{BARE_KEY}".encode(), digest_size=4
    ).digest()
    engine = new_engine(database_url)
    try:
        async with engine.connect() as holder:
            await holder.execute(
                text("SELECT pg_advisory_xact_lock(:c, :k)"),
                {"c": 0x49515402, "k": int.from_bytes(digest, "big", signed=True)},
            )
            response = await post(client, platform, completion(), **{"Idempotency-Key": KEY})
            assert response.status_code == 409
            assert response.headers["retry-after"] == "1"
            await holder.rollback()
    finally:
        await engine.dispose()
    assert await count_completions(app) == 0
    assert (
        await post(client, platform, completion(), **{"Idempotency-Key": KEY})
    ).status_code == 201


@pytest.mark.postgresql
async def test_concurrent_requests_with_one_key_record_once(
    client: httpx.AsyncClient, app: Any, platform: dict[str, str]
) -> None:
    responses = await asyncio.gather(
        *(post(client, platform, completion(), **{"Idempotency-Key": KEY}) for _ in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    assert await count_completions(app) == 1
    assert await count_events(app, "completionRecorded") == 1


BATCH_CSV = (
    b"externalId,employeeNumber,courseCode,completedAt,passed\r\n"
    b"b-1,100001,IQT-BRONZE,2026-01-15T10:00:00Z,yes\r\n"
    b"b-2,100002,IQT-GOLD,2026-01-15T10:00:00Z,yes\r\n"
)


async def post_csv_batch(
    client: httpx.AsyncClient, creds: dict[str, str], body: bytes, key: str
) -> httpx.Response:
    return await client.post(
        "/completionBatches",
        content=body,
        headers={**auth(creds), "Content-Type": "text/csv", "Idempotency-Key": key},
    )


async def test_a_batch_retried_with_the_key_gets_the_first_answer(
    client: httpx.AsyncClient, app: Any, admin: dict[str, str], platform: dict[str, str]
) -> None:
    first = await post_csv_batch(client, platform, BATCH_CSV, KEY)
    # Meanwhile HR sends the person: without the key, the record would be "unchanged" now.
    await client.put("/staff/100001", json=person(), headers=auth(admin))
    again = await post_csv_batch(client, platform, BATCH_CSV, BARE_KEY)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()
    assert (again.json()["recorded"], again.json()["unchanged"]) == (1, 0)
    assert again.json()["rejections"][0]["row"] == 2
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await count_completions(app) == 1
    assert await count_events(app, "completionRecorded") == 1


async def test_a_batch_key_used_for_another_body_is_422(
    client: httpx.AsyncClient, app: Any, platform: dict[str, str]
) -> None:
    await post_csv_batch(client, platform, BATCH_CSV, KEY)
    other = BATCH_CSV.replace(b"b-1", b"b-3")
    response = await post_csv_batch(client, platform, other, KEY)
    assert response.status_code == 422
    assert response.json()["invalidParams"][0]["name"] == "Idempotency-Key"
    as_json = await client.post(
        "/completionBatches",
        json={"records": [completion("b-1")]},
        headers={**auth(platform), "Idempotency-Key": KEY},
    )
    assert as_json.status_code == 422
    assert await count_completions(app) == 1


async def test_a_batch_refused_whole_stores_no_answer(
    client: httpx.AsyncClient, platform: dict[str, str]
) -> None:
    refused = await post_csv_batch(client, platform, b"externalId,grade\r\n", KEY)
    assert refused.status_code == 422
    assert refused.json()["invalidParams"][0]["name"] == "grade"
    fixed = await post_csv_batch(client, platform, BATCH_CSV, KEY)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["recorded"] == 1


async def test_a_malformed_batch_key_is_400(
    client: httpx.AsyncClient, app: Any, platform: dict[str, str]
) -> None:
    response = await post_csv_batch(client, platform, BATCH_CSV, '""')
    assert response.status_code == 400
    assert response.json()["invalidParams"][0]["name"] == "Idempotency-Key"
    assert await count_completions(app) == 0
