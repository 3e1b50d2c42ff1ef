import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.problems import Conflict
from app.demo.data import fill_demo_data
from app.models import Award
from tests.conftest import ClientFactory, auth


async def test_demo_data_gives_staff_completions_projects_and_every_level(
    session: AsyncSession, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    dashboard = await make_client(scopes=["uptake:read", "staff:read"])
    activity = await fill_demo_data(session, 1500)
    await session.commit()
    assert activity.completions > 0
    assert activity.approved_projects >= 10
    levels = dict(
        (await session.execute(select(Award.level, func.count()).group_by(Award.level))).all()
    )
    assert levels["bronze"] == activity.completions
    assert levels["silver"] > 0
    assert levels["gold"] > 0
    await session.commit()  # ends the read, so the app's own sessions may write
    figures = (await client.get("/uptake", headers=auth(dashboard))).json()
    assert figures["data"][0]["atLeastBronze"] == activity.completions, figures


async def test_demo_data_refuses_a_database_that_holds_staff(session: AsyncSession) -> None:
    await fill_demo_data(session, 50)
    await session.commit()
    with pytest.raises(Conflict):
        await fill_demo_data(session, 50)


async def test_demo_data_spreads_awards_leavers_and_board_meetings_over_the_year(
    session: AsyncSession, client: httpx.AsyncClient, make_client: ClientFactory
) -> None:
    dashboard = await make_client(scopes=["uptake:read", "staff:read", "organisations:read"])
    await fill_demo_data(session, 1500)
    await session.commit()
    series = await client.get("/uptake/timeSeries?interval=month", headers=auth(dashboard))
    rows = series.json()["data"]
    assert len(rows) >= 12, rows
    silver = [row["atLeastSilver"] for row in rows]
    gold = [row["gold"] for row in rows]
    headcount = [row["headcount"] for row in rows]
    assert silver == sorted(silver) and len(set(silver)) >= 6, silver
    assert gold[0] < gold[-1], gold
    assert len(set(headcount)) >= 6, headcount  # leavers over the year, not all today

    meetings = await client.get("/boardMeetings?pageSize=100", headers=auth(dashboard))
    assert meetings.status_code == 200, meetings.text
    data = meetings.json()["data"]
    assert {m["qiDiscussed"] for m in data} == {True, False}, data
    assert len({m["meetingDate"][:7] for m in data}) >= 10, data
    board = await client.get("/uptake/board?interval=quarter", headers=auth(dashboard))
    assert board.status_code == 200, board.text
