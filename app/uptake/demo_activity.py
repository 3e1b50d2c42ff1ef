"""The activity half of ``iqt demo-data``: completions of the IQT e-learning, and improvement
projects registered, submitted and approved — all through the same services the API uses, so
awards follow from the rules and the uptake summary stays exact."""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.caller import Caller
from app.auth.scopes import ALL_SCOPES
from app.completions.batches import apply_completion_batch
from app.core.clock import utcnow
from app.core.settings import get_settings
from app.courses.service import load_reference_courses
from app.projects import reviews
from app.projects import service as projects
from app.projects.schemas import PROJECT_EXAMPLE, SCORES_EXAMPLE, ProjectFields, ReviewIn

BATCH = 5000
OUTCOMES = ("improved", "improved", "noChange", "worse", "inconclusive")


@dataclass(frozen=True)
class Activity:
    completions: int
    approved_projects: int


async def demo_caller(session: AsyncSession) -> Caller:
    """A client of its own, so the demo's writes are attributed like any platform's."""
    scopes = sorted(ALL_SCOPES)
    new = await auth_service.create_client(session, get_settings(), "Demo data", scopes, None)
    return Caller(new.client_id, frozenset(scopes), None, request_id="demo-data")


async def fill_demo_activity(
    session: AsyncSession, rng: random.Random, people: Sequence[dict[str, Any]]
) -> Activity:
    caller = await demo_caller(session)
    await load_reference_courses(session)
    active = [p for p in people if p["end_date"] is None]
    learners = rng.sample(active, k=len(active) * 15 // 100)
    now = utcnow()
    records = [
        {
            "employeeNumber": p["employee_number"],
            "courseCode": "IQT-BRONZE",
            "completedAt": (now - timedelta(days=rng.randrange(1, 1500))).isoformat(),
            "passed": True,
            "scoreScaled": round(rng.uniform(0.7, 1.0), 2),
            "externalId": f"demo-{p['employee_number']}",
        }
        for p in learners
    ]
    for first in range(0, len(records), BATCH):
        await apply_completion_batch(session, caller, records[first : first + BATCH])
    approved = await _approved_projects(session, caller, rng, learners)
    return Activity(completions=len(records), approved_projects=approved)


async def _approved_projects(
    session: AsyncSession, caller: Caller, rng: random.Random, bronze: Sequence[dict[str, Any]]
) -> int:
    """Pairs of Bronze holders run projects. Five of them first lead projects of their own
    (Silver), then mentor the others' (two or more each: Gold)."""
    count = min(len(bronze) // 20, 200)
    if count < 10 or len(bronze) < 2 * count + 6:
        return 0
    mentors, reviewer, teams = bronze[:5], bronze[5], bronze[6:]
    triples = [(m, teams[i], mentors[(i + 1) % 5]) for i, m in enumerate(mentors)]
    triples += [
        (teams[5 + 2 * k], teams[6 + 2 * k], mentors[k % 5]) for k in range(count - len(mentors))
    ]
    pass_mark = get_settings().silver_pass_mark
    for index, (lead, member, mentor) in enumerate(triples):
        fields = ProjectFields.model_validate(
            {
                **PROJECT_EXAMPLE,
                "title": f"Improvement project {index + 1}",
                "organisation": lead["organisation_ods_code"],
                "outcome": rng.choice(OUTCOMES),
                "team": [
                    {"employeeNumber": lead["employee_number"], "role": "lead"},
                    {"employeeNumber": member["employee_number"], "role": "member"},
                    {"employeeNumber": mentor["employee_number"], "role": "mentor"},
                ],
            }
        )
        project = await projects.create_project(session, caller, fields)
        await projects.submit_project(session, caller, project.project.id, None)
        review = ReviewIn.model_validate(
            {
                "reviewerEmployeeNumber": reviewer["employee_number"],
                "scores": SCORES_EXAMPLE,
                "decision": "approved",
                "comments": "A genuine attempt, honestly reflected on.",
            }
        )
        await reviews.review_project(
            session, caller, project.project.id, review, pass_mark=pass_mark, if_match=None
        )
    return count
