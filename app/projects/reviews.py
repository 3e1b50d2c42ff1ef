"""Reviews on the Silver rubric: approve or return a submitted project; approval (an event
awards handles) feeds awards.

The reviewing client is a system; the reviewer is the staff member it names in
``reviewerEmployeeNumber``, who must be known to the service (among the staff of the reviewing
client's organisations, when it is restricted) and not on the project's team.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.clock import utcnow
from app.core.etag import check_if_match
from app.core.pagination import PageRequest, PageResult
from app.core.problems import Forbidden, ValidationFailed
from app.models.project import ProjectReview
from app.projects import repository
from app.projects.events import (
    ProjectApproved,
    ProjectEvent,
    ProjectReturned,
    ProjectReviewed,
    TeamMember,
)
from app.projects.lifecycle import ProjectAction
from app.projects.rubric import review_problems, total
from app.projects.schemas import ReviewDecision, ReviewIn
from app.projects.service import (
    RESOURCE,
    move_project,
    next_status_or_conflict,
    publish_project_events,
    visible_project,
)
from app.staff.resolution import people_by_employee_number


@dataclass(frozen=True)
class ReviewView:
    review: ProjectReview
    reviewer_employee_number: str


async def review_project(
    session: AsyncSession,
    caller: Caller,
    project_id: int,
    body: ReviewIn,
    *,
    pass_mark: int,
    if_match: str | None,
) -> ReviewView:
    """Records a review and moves the project to approved or returned."""
    project = await visible_project(session, caller, project_id, lock=True)
    caller.note_audit("review", RESOURCE, str(project_id), project.organisation_ods_code)
    check_if_match(if_match, project.version)
    approving = body.decision == ReviewDecision.APPROVED
    status = next_status_or_conflict(
        project, ProjectAction.APPROVE if approving else ProjectAction.RETURN
    )
    reviewer = body.reviewer_employee_number
    found = await people_by_employee_number(session, caller.organisations, [reviewer])
    reviewer_id = found[reviewer].staff_id if reviewer in found else None
    if reviewer_id is None:
        raise ValidationFailed(
            f"Unknown reviewer {reviewer}.",
            invalid_params=[
                ("reviewerEmployeeNumber", f"No staff member {reviewer} is known to the service.")
            ],
        )
    team = (await repository.teams_of(session, [project.id]))[project.id]
    if any(staff_id == reviewer_id for _, _, staff_id in team):
        raise Forbidden(f"Reviewer {reviewer} is on the project's team and may not review it.")
    scores = body.scores.model_dump(by_alias=True)
    problems = review_problems(str(body.decision), scores, body.comments, pass_mark)
    if problems:
        raise ValidationFailed("; ".join(reason for _, reason in problems), invalid_params=problems)

    now = utcnow()
    review = await repository.add_review(
        session,
        {
            "project_id": project.id,
            "reviewer_staff_id": reviewer_id,
            "reviewer_client_id": caller.client_id,
            **{
                f"score_{name}": value
                for name, value in body.scores.model_dump(by_alias=False).items()
            },
            "total": total(scores),
            "pass_mark": pass_mark,
            "decision": str(body.decision),
            "comments": body.comments,
            "reviewed_at": now,
        },
    )
    await move_project(session, project, status, **({"approved_at": now} if approving else {}))
    project_id, organisation = project.id, project.organisation_ods_code
    events: list[ProjectEvent] = [
        ProjectReviewed(
            project_id,
            organisation,
            project.status,
            review_id=review.id,
            decision=review.decision,
            total=review.total,
            pass_mark=pass_mark,
        )
    ]
    if approving:
        members = tuple(TeamMember(n, r, s) for n, r, s in team)
        events.append(ProjectApproved(project_id, organisation, project.status, review.id, members))
    else:
        events.append(ProjectReturned(project_id, organisation, project.status, review.id))
    await publish_project_events(session, caller, events)
    return ReviewView(review, reviewer)


async def list_reviews(
    session: AsyncSession, caller: Caller, project_id: int, page: PageRequest
) -> PageResult[ReviewView]:
    """Every review of the project, oldest first."""
    project = await visible_project(session, caller, project_id)
    caller.note_audit("list", "projectReview", str(project_id), project.organisation_ods_code)
    result = await repository.list_reviews(session, project.id, page)
    return PageResult([ReviewView(r, n) for r, n in result.items], result.next_token)
