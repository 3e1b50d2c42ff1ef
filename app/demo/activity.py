"""The activity half of ``iqt demo-data``: completions of the IQT e-learning, improvement
projects registered, submitted and approved, and board meetings — all through the same services
the API uses, so awards follow from the rules.

The services stamp a review with the time it happens. So that a dashboard shows Silver and Gold
growing over the past year, as a programme does, rather than all arriving today, the projects'
dates are then set back over the past year (each approved in turn, the mentors' own first),
their awards dated by that evidence as the rules date them, and the uptake of their holders
refreshed."""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.caller import Caller
from app.auth.scopes import ALL_SCOPES
from app.completions.batches import apply_completion_batch
from app.core.clock import today, utcnow
from app.core.settings import get_settings
from app.courses.service import load_reference_courses
from app.models import Award, ImprovementProject, ProjectReview
from app.projects import reviews
from app.projects import service as projects
from app.projects.schemas import PROJECT_EXAMPLE, SCORES_EXAMPLE, ProjectFields, ReviewIn
from app.staff.fields import StaffRow
from app.uptake.board import put_board_meeting
from app.uptake.projection import note_changed
from app.uptake.schemas import BoardMeetingPut

BATCH = 5000
LEVELS = ("bronze", "silver", "gold")
OUTCOMES = ("improved", "improved", "noChange", "worse", "inconclusive")


@dataclass(frozen=True)
class Activity:
    staff: int
    leavers: int
    movers: int
    completions: int
    approved_projects: int
    board_meetings: int
    holders: dict[str, int]  # award level -> active awards

    def report(self) -> str:
        """What ``iqt demo-data`` prints: what it made, and a query to try."""
        holders = ", ".join(f"{self.holders.get(level, 0)} {level}" for level in LEVELS)
        return (
            f"created {self.staff} staff ({self.leavers} leavers, {self.movers} movers over the "
            f"past year), {self.completions} completions, {self.approved_projects} approved "
            f"improvement projects and {self.board_meetings} board meetings\n"
            f"awards: {holders}\n"
            "try, with a client holding uptake:read and its token in $TOKEN:\n"
            '  curl -s "http://127.0.0.1:8000/uptake/timeSeries?interval=month'
            '&groupBy=organisation" -H "Authorization: Bearer $TOKEN"'
        )


async def demo_caller(session: AsyncSession) -> Caller:
    """A client of its own, so the demo's writes are attributed like any platform's."""
    scopes = sorted(ALL_SCOPES)
    new = await auth_service.create_client(session, get_settings(), "Demo data", scopes, None)
    return Caller(new.client_id, frozenset(scopes), None, request_id="demo-data")


async def fill_demo_activity(
    session: AsyncSession, rng: random.Random, people: Sequence[StaffRow], *, movers: int
) -> Activity:
    caller = await demo_caller(session)
    await load_reference_courses(session)
    active = [p for p in people if p.end_date is None]
    now = utcnow()
    # The earliest learners run the projects, so their Bronze comes before their Silver.
    completed = sorted(
        (now - timedelta(days=rng.randrange(1, 1500)), p.employee_number, p)
        for p in rng.sample(active, k=len(active) * 15 // 100)
    )
    learners = [p for _, _, p in completed]
    records = [
        {
            "employeeNumber": p.employee_number,
            "courseCode": "IQT-BRONZE",
            "completedAt": at.isoformat(),
            "passed": True,
            "scoreScaled": round(rng.uniform(0.7, 1.0), 2),
            "externalId": f"demo-{p.employee_number}",
        }
        for at, _, p in completed
    ]
    for first in range(0, len(records), BATCH):
        await apply_completion_batch(session, caller, records[first : first + BATCH])
    approved = await _approved_projects(session, caller, rng, learners)
    await _date_back(session, rng, approved)
    meetings = await _board_meetings(session, caller, rng, people)
    held = await session.execute(
        select(Award.level, func.count()).where(Award.status == "active").group_by(Award.level)
    )
    return Activity(
        staff=len(people),
        leavers=sum(p.end_date is not None for p in people),
        movers=movers,
        completions=len(records),
        approved_projects=len(approved),
        board_meetings=meetings,
        holders={level: count for level, count in held.all()},
    )


async def _date_back(session: AsyncSession, rng: random.Random, projects: list[int]) -> None:
    """Spreads the approvals over the past year, in the order they were made, and dates the
    Silver and Gold awards as their evidence does: when the last of their projects was
    approved, and Gold no earlier than the holder's Silver."""
    now = utcnow()
    days = sorted((rng.randrange(1, 365) for _ in projects), reverse=True)
    approved = {
        p: now - timedelta(days=d, hours=rng.randrange(8))
        for p, d in zip(projects, days, strict=True)
    }
    for project_id, at in approved.items():
        await session.execute(
            update(ImprovementProject)
            .where(ImprovementProject.id == project_id)
            .values(
                created_at=at - timedelta(days=90),
                submitted_at=at - timedelta(days=14),
                approved_at=at,
                updated_at=at,
            )
        )
        await session.execute(
            update(ProjectReview)
            .where(ProjectReview.project_id == project_id)
            .values(reviewed_at=at)
        )
    silver: dict[int, datetime] = {}
    dated: set[int] = set()
    awards = await session.scalars(
        select(Award).where(Award.level.in_(("silver", "gold"))).order_by(Award.level.desc())
    )
    for award in awards:  # silver before gold
        times = [approved[p] for p in award.evidence.get("projectIds") or () if p in approved]
        if award.level == "gold" and award.staff_id in silver:
            times.append(silver[award.staff_id])
        if times:
            award.attained_at = award.granted_at = max(times)
            if award.level == "silver":
                silver[award.staff_id] = award.attained_at
            dated.add(award.staff_id)
    await session.flush()
    await note_changed(session, sorted(dated))


async def _board_meetings(
    session: AsyncSession, caller: Caller, rng: random.Random, people: Sequence[StaffRow]
) -> int:
    """Every organisation's board meets monthly over the past year; about two meetings in
    three discuss QI."""
    organisations = sorted({p.organisation_ods_code for p in people})
    count = 0
    for organisation in organisations:
        for month in range(12):
            held_on = today() - timedelta(days=30 * month + rng.randrange(1, 28))
            discussed = rng.random() < 0.65
            body = BoardMeetingPut.model_validate(
                {
                    "organisation": organisation,
                    "meetingDate": held_on.isoformat(),
                    "qiDiscussed": discussed,
                    "agendaReference": "Item 7: IQT uptake report" if discussed else None,
                }
            )
            meeting_id = f"{organisation}-{held_on.isoformat()}"
            await put_board_meeting(session, caller, meeting_id, body, None)
            count += 1
    return count


async def _approved_projects(
    session: AsyncSession, caller: Caller, rng: random.Random, bronze: Sequence[StaffRow]
) -> list[int]:
    """Pairs of Bronze holders run projects. Five of them first lead projects of their own
    (Silver), then mentor the others' (two or more each: Gold)."""
    count = min(len(bronze) // 20, 200)
    if count < 10 or len(bronze) < 2 * count + 6:
        return []
    mentors, reviewer, teams = bronze[:5], bronze[5], bronze[6:]
    triples = [(m, teams[i], mentors[(i + 1) % 5]) for i, m in enumerate(mentors)]
    triples += [
        (teams[5 + 2 * k], teams[6 + 2 * k], mentors[k % 5]) for k in range(count - len(mentors))
    ]
    pass_mark = get_settings().silver_pass_mark
    approved = []
    for index, (lead, member, mentor) in enumerate(triples):
        fields = ProjectFields.model_validate(
            {
                **PROJECT_EXAMPLE,
                "title": f"Improvement project {index + 1}",
                "organisation": lead.organisation_ods_code,
                "outcome": rng.choice(OUTCOMES),
                "team": [
                    {"employeeNumber": lead.employee_number, "role": "lead"},
                    {"employeeNumber": member.employee_number, "role": "member"},
                    {"employeeNumber": mentor.employee_number, "role": "mentor"},
                ],
            }
        )
        project = await projects.create_project(session, caller, fields)
        await projects.submit_project(session, caller, project.project.id, None)
        review = ReviewIn.model_validate(
            {
                "reviewerEmployeeNumber": reviewer.employee_number,
                "scores": SCORES_EXAMPLE,
                "decision": "approved",
                "comments": "A genuine attempt, honestly reflected on.",
            }
        )
        await reviews.review_project(
            session, caller, project.project.id, review, pass_mark=pass_mark, if_match=None
        )
        approved.append(project.project.id)
    return approved
