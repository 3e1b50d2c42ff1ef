"""``iqt demo-data``: an empty database filled through the service layer, for a first look.

Reference organisations, then staff (weighted by organisation and staff group, ~1% board
members, starters and leavers over the years, about half the leavers within the past year)
written by ``apply_staff_rows`` — the code HR batches use, which also keeps the uptake summary
up to date — and movers between organisations month by month over the past year, each month
one dated batch. Then the activity (``demo_activity``): completions of the IQT e-learning
(Bronze), improvement projects approved over the past year (Silver, and Gold for their mentors)
and a year of board meetings, some with QI discussed.
"""

import random
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import today
from app.core.problems import Conflict
from app.demo.activity import Activity, fill_demo_activity
from app.models import StaffMember
from app.organisations.service import load_reference_organisations
from app.staff.fields import StaffRow
from app.staff.writes import apply_staff_rows

ORGANISATIONS = {"7A1": 19, "7A2": 12, "7A3": 13, "7A4": 16, "7A5": 14, "7A6": 15, "7A7": 3,
                 "RQF": 4, "RT4": 4}  # fmt: skip
STAFF_GROUPS = {"01": 9, "02": 1, "03": 30, "04": 7, "05": 3, "06": 2, "07": 17, "08": 22,
                "09": 8, "10": 1}  # fmt: skip
GIVEN = ["Siân", "Llŷr", "Dafydd", "Rhiannon", "Ioan", "Cerys", "Owain", "Elin", "Ffion", "Aled"]
FAMILY = ["Jones", "Williams", "Davies", "Evans", "Thomas", "ap Gruffudd", "O'Brien", "Rees"]
CHUNK = 5000


def _person(rng: random.Random, index: int) -> StaffRow:
    number = f"D{index:07d}"
    start = date(2000, 1, 1) + timedelta(days=rng.randrange(9000))
    end = None
    if rng.random() < 0.05:  # a leaver: half of them within the past year
        recent = today() - timedelta(days=rng.randrange(1, 365))
        later = start + timedelta(days=rng.randrange(100, 3000))
        end = max(start, recent) if rng.random() < 0.5 else min(later, today())
    return StaffRow(
        employee_number=number,
        given_name=rng.choice(GIVEN),
        family_name=rng.choice(FAMILY),
        work_email=f"{number.lower()}@wales.nhs.uk",
        organisation_ods_code=rng.choices(list(ORGANISATIONS), list(ORGANISATIONS.values()))[0],
        staff_group_code=rng.choices(list(STAFF_GROUPS), list(STAFF_GROUPS.values()))[0],
        job_title=None,
        board_member=rng.random() < 0.01,
        start_date=start,
        end_date=end,
    )


async def fill_demo_data(session: AsyncSession, staff: int, seed: int = 2026) -> Activity:
    """Loads the demo into an empty database (refuses one that holds staff)."""
    if await session.scalar(select(func.count()).select_from(StaffMember)):
        raise Conflict("The database already holds staff: demo data goes into an empty one.")
    await load_reference_organisations(session)
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    people = [_person(rng, index) for index in range(staff)]
    for first in range(0, staff, CHUNK):
        chunk = people[first : first + CHUNK]
        await apply_staff_rows(
            session, None, chunk, list(range(1, len(chunk) + 1)), effective_on=today()
        )
    movers = await _move_monthly(session, rng, people)
    return await fill_demo_activity(session, rng, people, movers=movers)


async def _move_monthly(session: AsyncSession, rng: random.Random, people: list[StaffRow]) -> int:
    """About 5% of the staff still in post move to another organisation, a twelfth of them
    in each of the past twelve months, oldest month first, as an HR system would send them
    (``people`` is updated to where they are now)."""
    year_ago = today() - timedelta(days=365)
    settled = [i for i, p in enumerate(people) if p.end_date is None and p.start_date < year_ago]
    chosen = rng.sample(settled, min(len(settled), len(people) // 20))
    for month in range(12):
        effective_on = year_ago + timedelta(days=30 * month + 15)
        moved = []
        for index in chosen[month::12]:
            person = people[index]
            elsewhere = [o for o in ORGANISATIONS if o != person.organisation_ods_code]
            people[index] = person._replace(organisation_ods_code=rng.choice(elsewhere))
            moved.append(people[index])
        if moved:
            rows = list(range(1, len(moved) + 1))
            await apply_staff_rows(session, None, moved, rows, effective_on=effective_on)
    return len(chosen)
