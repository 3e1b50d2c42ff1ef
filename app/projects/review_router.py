"""Reviews of a project on the Silver rubric, over HTTP."""

from typing import Annotated

from fastapi import APIRouter, Request

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.etag import IfMatch
from app.core.openapi import AUTHENTICATED
from app.core.pagination import PageMeta, PageRequest, page_links, page_request
from app.projects import reviews
from app.projects.parameters import STATE_CONFLICT, ProjectId, problems
from app.projects.reviews import ReviewView
from app.projects.schemas import ReviewIn, ReviewPage, ReviewRead

# Included by app.projects.router, whose tag its routes take.
router = APIRouter(route_class=SessionRoute)


def _review(view: ReviewView) -> ReviewRead:
    review = view.review
    return ReviewRead.model_validate(
        {
            "id": review.id,
            "projectId": review.project_id,
            "reviewerEmployeeNumber": view.reviewer_employee_number,
            "reviewerClientId": review.reviewer_client_id,
            "scores": {
                "principles": review.score_principles,
                "aim": review.score_aim,
                "measures": review.score_measures,
                "changes": review.score_changes,
                "sustainabilityAndSpread": review.score_sustainability_and_spread,
                "reflection": review.score_reflection,
            },
            "total": review.total,
            "passMark": review.pass_mark,
            "decision": review.decision,
            "comments": review.comments,
            "reviewedAt": review.reviewed_at,
        }
    )


@router.post(
    "/improvementProjects/{projectId}/reviews",
    summary="Review a submitted improvement project",
    status_code=201,
    response_model=ReviewRead,
    responses={
        201: {"description": "Recorded; the project is now approved or returned."},
        **problems(
            *AUTHENTICATED,
            404,
            409,
            412,
            413,
            422,
            described={
                403: "The token lacks projects:review, or the reviewer is on the project's team.",
                409: STATE_CONFLICT,
            },
        ),
    },
)
async def review_improvement_project(
    project_id: ProjectId,
    body: ReviewIn,
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PROJECTS_REVIEW)],
    if_match: IfMatch = None,
) -> ReviewRead:
    """Scores on the Silver rubric (total /50) and a decision: approved needs the configured
    pass mark, returned needs comments; a reviewer on the team is refused (403). The reviewer
    must be a staff member of the client's organisations when it is limited to some (422 as
    for an unknown number otherwise)."""
    view = await reviews.review_project(
        session,
        caller,
        project_id,
        body,
        pass_mark=request.app.state.settings.silver_pass_mark,
        if_match=if_match,
    )
    return _review(view)


@router.get(
    "/improvementProjects/{projectId}/reviews",
    summary="List an improvement project's reviews",
    response_model=ReviewPage,
    responses=problems(*AUTHENTICATED, 404, 422),
)
async def list_improvement_project_reviews(
    project_id: ProjectId,
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.PROJECTS_READ)],
    page: Annotated[PageRequest, page_request("projectReviews")],
) -> ReviewPage:
    """Every review of the project, oldest first: a project may be returned and resubmitted
    several times."""
    result = await reviews.list_reviews(session, caller, project_id, page)
    return ReviewPage(
        data=[_review(view) for view in result.items],
        links=page_links(request, result.next_token),
        meta=PageMeta(page_size=page.size, count=len(result.items)),
    )
