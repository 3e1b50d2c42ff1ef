"""Small builders for staff tests."""

import uuid
from typing import Any

import httpx

from tests.conftest import auth, eventually

ORGANISATIONS = {
    "7A4": {"name": "Cardiff and Vale University Health Board", "type": "healthBoard"},
    "7A6": {"name": "Aneurin Bevan University Health Board", "type": "healthBoard"},
}


async def seed_organisations(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for code, body in ORGANISATIONS.items():
        response = await client.put(f"/organisations/{code}", json=body, headers=auth(admin))
        assert response.status_code in (200, 201), response.text


def person(number: str = "100001", **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "givenName": "Siân",
        "familyName": "Llŷr",
        "workEmail": f"person{number}@wales.nhs.uk",
        "organisation": "7A4",
        "staffGroup": "Nursing and Midwifery Registered",
        "jobTitle": "Staff Nurse",
        "boardMember": False,
        "startDate": "2019-04-01",
    }
    record.update(overrides)
    return record


def batch_record(number: str, **overrides: Any) -> dict[str, Any]:
    return {"employeeNumber": number, **person(number, **overrides)}


async def settled_event_types(
    client: httpx.AsyncClient, creds: dict[str, str], types: set[str]
) -> list[str]:
    """The types of every event committed so far, in feed order, filtered to ``types``.

    On PostgreSQL the feed holds back events of transactions younger than the oldest still
    running, so this writes a sentinel change and waits until the feed shows it: every event
    committed before the sentinel is then visible too.
    """
    sentinel = f"Sentinel {uuid.uuid4().hex[:8]}"
    response = await client.put(
        "/organisations/7A6",
        json={**ORGANISATIONS["7A6"], "name": sentinel},
        headers=auth(creds),
    )
    assert response.status_code in (200, 201), response.text
    feed: dict[str, Any] = {}

    async def sentinel_shown() -> bool:
        nonlocal feed
        feed = (await client.get("/events?limit=1000", headers=auth(creds))).json()
        return any(
            e["resourceId"] == "7A6"
            and e["type"] == "organisationChanged"
            and "name" in e["data"].get("changed", [])
            for e in feed["data"][-1:]
        )

    assert await eventually(sentinel_shown), "the sentinel change never showed in the feed"
    return [e["type"] for e in feed["data"] if e["type"] in types]
