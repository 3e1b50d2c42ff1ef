from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.etag import IfMatch, etag_for, etag_header
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.pagination import PageMeta, PageRequest, page_links, page_request
from app.courses import service
from app.courses.schemas import COURSE_CODE_PATTERN, CoursePage, CoursePut, CourseRead
from app.models import Course

router = APIRouter(route_class=SessionRoute, tags=["Courses"])

CourseCodePath = Annotated[
    str,
    Path(
        alias="courseCode",
        pattern=COURSE_CODE_PATTERN,
        description="Course code.",
        examples=["IQT-BRONZE"],
    ),
]
ETAG_HEADER = etag_header("the course")


def _read(course: Course, activity_ids: list[str]) -> CourseRead:
    return CourseRead(
        course_code=course.code,
        title=course.title,
        provider=course.provider,
        counts_towards=course.counts_towards,
        pass_required=course.pass_required,
        minimum_score=course.minimum_score,
        xapi_activity_ids=activity_ids,
        active=course.active,
        created_at=course.created_at,
        updated_at=course.updated_at,
    )


@router.get(
    "/courses",
    summary="List courses",
    response_model=CoursePage,
    responses=problem_responses(*AUTHENTICATED, 422),
)
async def list_courses(
    request: Request,
    session: SessionDep,
    _caller: Annotated[Caller, requires(Scope.COURSES_READ)],
    page: Annotated[PageRequest, page_request("courses")],
    active: Annotated[bool | None, Query(description="Only active (or retired) courses.")] = None,
) -> CoursePage:
    """The course catalogue, ordered by course code."""
    result, activities = await service.list_courses(session, page, active=active)
    return CoursePage(
        data=[_read(course, activities[course.id]) for course in result.items],
        links=page_links(request, result.next_token),
        meta=PageMeta(page_size=page.size, count=len(result.items)),
    )


@router.get(
    "/courses/{courseCode}",
    summary="Get a course",
    response_model=CourseRead,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(*AUTHENTICATED, 404, 422)},
)
async def get_course(
    course_code: CourseCodePath,
    response: Response,
    session: SessionDep,
    _caller: Annotated[Caller, requires(Scope.COURSES_READ)],
) -> CourseRead:
    """One course by code, with its ETag."""
    view = await service.get_course(session, course_code)
    response.headers["ETag"] = etag_for(view.course.version)
    return _read(view.course, view.activity_ids)


@router.put(
    "/courses/{courseCode}",
    summary="Create or replace a course",
    response_model=CourseRead,
    responses={
        200: {"description": "Replaced (or unchanged).", "headers": ETAG_HEADER},
        201: {
            "description": "Created.",
            "model": CourseRead,
            "headers": {
                **ETAG_HEADER,
                "Location": {"schema": {"type": "string", "maxLength": 2048}},
            },
        },
        **problem_responses(*AUTHENTICATED, 409, 412, 413, 422),
    },
)
async def put_course(
    course_code: CourseCodePath,
    body: CoursePut,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COURSES_WRITE)],
    if_match: IfMatch = None,
) -> CourseRead:
    """Creates (201) or replaces (200) a course. An xAPI activity id already listed by another
    course is a 409; a stale If-Match is a 412. The catalogue is programme-wide: a client
    restricted to some organisations is refused (403) even with `courses:write`."""
    view = await service.put_course(session, caller, course_code, body, if_match)
    response.headers["ETag"] = etag_for(view.course.version)
    if view.created:
        response.status_code = 201
        response.headers["Location"] = str(request.url_for("get_course", courseCode=course_code))
    return _read(view.course, view.activity_ids)
