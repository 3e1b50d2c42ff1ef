"""``iqt demo-data``: an empty database filled through the service layer, for a first look.

Reference organisations, then staff (weighted by organisation and staff group, ~1% board
members, some leavers, some movers) written by ``apply_staff_rows`` — the code HR batches use,
which also keeps the uptake summary up to date. Then the activity (``demo_activity``): about
15% of active staff complete the IQT e-learning (Bronze follows from the rules), and pairs of
them run improvement projects that are submitted and approved (Silver), a few mentors mentoring
several (Gold).
"""

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import today
from app.core.problems import Conflict
from app.models import StaffMember
from app.organisations.service import load_reference_organisations
from app.staff.writes import apply_staff_rows
from app.uptake.demo_activity import Activity, fill_demo_activity

ORGANISATIONS = {"7A1": 19, "7A2": 12, "7A3": 13, "7A4": 16, "7A5": 14, "7A6": 15, "7A7": 3,
                 "RQF": 4, "RT4": 4}  # fmt: skip
STAFF_GROUPS = {"01": 9, "02": 1, "03": 30, "04": 7, "05": 3, "06": 2, "07": 17, "08": 22,
                "09": 8, "10": 1}  # fmt: skip
GIVEN = ["Siân", "Llŷr", "Dafydd", "Rhiannon", "Ioan", "Cerys", "Owain", "Elin", "Ffion", "Aled"]
FAMILY = ["Jones", "Williams", "Davies", "Evans", "Thomas", "ap Gruffudd", "O'Brien", "Rees"]
CHUNK = 5000


def _person(rng: random.Random, index: int) -> dict[str, Any]:
    number = f"D{index:07d}"
    start = date(2000, 1, 1) + timedelta(days=rng.randrange(9000))
    leaves = rng.random() < 0.05
    end = min(start + timedelta(days=rng.randrange(100, 3000)), today()) if leaves else None
    email = f"{number.lower()}@wales.nhs.uk"
    return {
        "employee_number": number,
        "given_name": rng.choice(GIVEN),
        "family_name": rng.choice(FAMILY),
        "work_email": email,
        "work_email_key": email,
        "organisation_ods_code": rng.choices(list(ORGANISATIONS), list(ORGANISATIONS.values()))[0],
        "staff_group_code": rng.choices(list(STAFF_GROUPS), list(STAFF_GROUPS.values()))[0],
        "job_title": None,
        "board_member": rng.random() < 0.01,
        "start_date": start,
        "end_date": end,
    }


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
    movers = [
        {**p, "organisation_ods_code": rng.choice(list(ORGANISATIONS))}
        for p in rng.sample(people, staff // 20)
        if p["end_date"] is None
    ]
    await apply_staff_rows(
        session, None, movers, list(range(1, len(movers) + 1)), effective_on=today()
    )
    return await fill_demo_activity(session, rng, people)
