"""A request that fails inside the database logs neither the row's names nor its e-mail."""

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import ClientFactory, auth
from tests.staff.factories import person, seed_organisations

GIVEN_NAME = "Zebedee"
FAMILY_NAME = "Quillfeather"
WORK_EMAIL = "zebedee.quillfeather@wales.nhs.uk"


@pytest.fixture
async def one_person_per_given_name(engine: AsyncEngine) -> AsyncIterator[None]:
    """A unique index the service does not expect: a second person with the same given name
    fails inside the database (on PostgreSQL with a DETAIL quoting the name)."""
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE UNIQUE INDEX test_one_given_name ON staff_members (given_name)")
        )
    yield
    async with engine.begin() as connection:
        await connection.execute(text("DROP INDEX test_one_given_name"))


async def test_a_database_failure_logs_no_names_or_emails(
    client: httpx.AsyncClient,
    make_client: ClientFactory,
    one_person_per_given_name: None,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = await make_client()
    await seed_organisations(client, admin)
    first = person("100001", givenName=GIVEN_NAME, familyName="Other", workEmail=None)
    assert (await client.put("/staff/100001", json=first, headers=auth(admin))).status_code == 201
    caplog.set_level(logging.DEBUG)
    capsys.readouterr()

    second = person("100002", givenName=GIVEN_NAME, familyName=FAMILY_NAME, workEmail=WORK_EMAIL)
    response = await client.put("/staff/100002", json=second, headers=auth(admin))

    assert response.status_code == 500
    logged = capsys.readouterr().out + "\n".join(r.getMessage() for r in caplog.records)
    assert "request.unhandled_error" in logged
    assert "staff_members" in logged  # the SQL is there to debug with
    for personal in (GIVEN_NAME, FAMILY_NAME, WORK_EMAIL, "zebedee"):
        assert personal not in logged
