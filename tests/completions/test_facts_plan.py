"""The award facts query reads one person's completions through the staff_id index, even
when the statistics PostgreSQL plans with were taken before the table filled up (a new table,
or autovacuum behind): evaluation then costs the same at any number of completions."""

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.completions.factories import completion, post
from tests.conftest import auth
from tests.staff.factories import person
from tests.statements import statements_run

pytestmark = pytest.mark.postgresql


async def test_a_persons_matched_completions_are_found_by_the_staff_index(
    client: httpx.AsyncClient,
    app: Any,
    session: AsyncSession,
    admin: dict[str, str],
    platform: dict[str, str],
) -> None:
    await client.put("/staff/300001", json=person("300001"), headers=auth(admin))
    await session.execute(text("ANALYZE completions"))  # statistics of an empty table
    await session.execute(
        text(
            """INSERT INTO completions (client_id, external_id, channel, course_id, completed_at,
                 staff_id, match_status)
               SELECT 'other', 'x' || n, 'api', (SELECT min(id) FROM courses), now(),
                 (SELECT id FROM staff_members WHERE employee_number = '300001'), 'matched'
               FROM generate_series(1, 5000) AS n"""
        )
    )
    await session.commit()
    await client.put("/staff/300002", json=person("300002"), headers=auth(admin))

    with statements_run(app) as run:
        response = await post(client, platform, completion("plan-1", number="300002"))
    captured = [
        (statement, parameters)
        for statement, parameters in run
        if statement.lstrip().startswith("SELECT completions.staff_id")
    ]
    assert response.status_code == 201, response.text
    assert captured, "award evaluation did not read the person's completions"

    statement, parameters = captured[0]
    connection = await session.connection()
    plan = (await connection.exec_driver_sql("EXPLAIN " + statement, parameters)).scalars()
    plan_text = "\n".join(plan)
    assert "ix_completions_staff_id" in plan_text, plan_text
