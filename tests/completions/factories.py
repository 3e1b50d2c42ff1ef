"""Small builders and look-ups for completion tests."""

from typing import Any

import httpx
from sqlalchemy import Select, func, select

from app.models import Completion, Event
from tests.conftest import auth

BRONZE = "IQT-BRONZE"
BRONZE_ACTIVITY = "https://learning.nhs.wales/xapi/activities/iqt-bronze"
COMPLETION_SCOPES = ["completions:read", "completions:write", "courses:read"]


def completion(
    external_id: str = "cc-1", number: str | None = "100001", **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "courseCode": BRONZE,
        "completedAt": "2026-01-15T10:30:00Z",
        "passed": True,
        "scoreScaled": 0.9,
        "externalId": external_id,
    }
    if number is not None:
        body["employeeNumber"] = number
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def post(
    client: httpx.AsyncClient, creds: dict[str, str], body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post("/completions", json=body, headers={**auth(creds), **headers})


async def scalar(app: Any, query: Select[Any]) -> Any:
    """One value read in a transaction of its own (never holding the SQLite write lock)."""
    async with app.state.sessionmaker() as session:
        return await session.scalar(query)


async def count_completions(app: Any) -> int:
    return int(await scalar(app, select(func.count()).select_from(Completion)))


async def count_events(app: Any, event_type: str) -> int:
    query = select(func.count()).select_from(Event).where(Event.type == event_type)
    return int(await scalar(app, query))


async def events_of(app: Any, event_type: str) -> list[Event]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(Event).where(Event.type == event_type).order_by(Event.id)
        )
        return list(rows)
