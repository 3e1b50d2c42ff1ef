"""Small builders for staff tests."""

from typing import Any

import httpx

from tests.conftest import auth

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
