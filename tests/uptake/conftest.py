from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import ClientFactory
from tests.staff.factories import seed_organisations
from tests.uptake.factories import grant, put_person

NURSE = "Nursing and Midwifery Registered"
ADMIN = "Administrative and Clerical"


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    creds = await make_client()
    await seed_organisations(client, creds)
    return creds


@pytest.fixture
async def dashboard(make_client: ClientFactory) -> dict[str, str]:
    return await make_client(scopes=["uptake:read"], name="dashboard")


@pytest.fixture
async def analyst(make_client: ClientFactory) -> dict[str, str]:
    return await make_client(scopes=["uptake:read", "staff:read"], name="analyst")


@pytest.fixture
async def figures(client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession) -> None:
    """The hand-computed fixture (see test_figures.py for the expected figures)."""
    for index in range(1, 7):
        await put_person(client, admin, f"A{index}", startDate="2019-04-01")
    for index in range(1, 3):
        await put_person(client, admin, f"B{index}", staffGroup=ADMIN, startDate="2020-01-01")
    for index in range(1, 6):
        end = {"endDate": "2024-12-31"} if index == 5 else {}
        await put_person(
            client, admin, f"C{index}", organisation="7A6", startDate="2018-01-01", **end
        )
    await put_person(
        client,
        admin,
        "D1",
        staffGroup="Medical and Dental",
        boardMember=True,
        startDate="2019-01-01",
    )
    for index in range(1, 6):
        await grant(session, f"A{index}", "bronze", date(2020, 1, 15))
    for number in ("A1", "A2"):
        await grant(session, number, "silver", date(2021, 3, 1))
    await grant(session, "A1", "gold", date(2022, 5, 1))
    await grant(session, "B1", "bronze", date(2020, 6, 1))
    for number in ("C1", "C2"):
        await grant(session, number, "bronze", date(2023, 2, 1))
    await grant(session, "C3", "bronze", date(2023, 2, 1), revoked=date(2024, 1, 10))
    await grant(session, "D1", "bronze", date(2019, 9, 9))


def yesterday(day: date) -> date:
    return day - timedelta(days=1)
