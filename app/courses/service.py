"""The course catalogue: create or replace a course, read it, load the reference course."""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.etag import check_if_match
from app.core.pagination import PageRequest, PageResult
from app.core.problems import Conflict, Forbidden, NotFound
from app.courses import repository
from app.courses.schemas import IQT_BRONZE_ACTIVITY_ID, CountsTowards, CoursePut
from app.models import Course

_FIELDS = ("title", "provider", "counts_towards", "pass_required", "minimum_score", "active")

IQT_BRONZE_CODE = "IQT-BRONZE"
IQT_BRONZE = CoursePut.model_validate(
    {
        "title": "Improving Quality Together: Bronze",
        "provider": "Learning@Wales",
        "countsTowards": CountsTowards.BRONZE,
        "passRequired": True,
        "xapiActivityIds": [IQT_BRONZE_ACTIVITY_ID],
        "active": True,
    }
)


@dataclass(frozen=True)
class CourseView:
    course: Course
    activity_ids: list[str]
    created: bool = False


async def get_course(session: AsyncSession, code: str) -> CourseView:
    course = await repository.get_by_code(session, code)
    if course is None:
        raise NotFound(f"No course {code}.")
    activities = await repository.activity_ids_of(session, [course.id])
    return CourseView(course, activities[course.id])


async def list_courses(
    session: AsyncSession, page: PageRequest, *, active: bool | None
) -> tuple[PageResult[Course], dict[int, list[str]]]:
    result = await repository.list_courses(session, page, active=active)
    activities = await repository.activity_ids_of(session, [c.id for c in result.items])
    return result, activities


async def put_course(
    session: AsyncSession,
    caller: Caller | None,
    code: str,
    data: CoursePut,
    if_match: str | None = None,
) -> CourseView:
    """Creates or replaces a course; a PUT that changes nothing writes nothing."""
    existing = await repository.get_by_code(session, code)
    if caller is not None:
        caller.note_audit("update" if existing else "create", "course", code, None)
        if caller.is_restricted:
            raise Forbidden(
                "The course catalogue is programme-wide: only a client without an "
                "organisation restriction may change it."
            )
    if existing is None:
        if if_match is not None:
            check_if_match(if_match, 0)  # nothing matches a course that does not exist
    else:
        check_if_match(if_match, existing.version)
    await _refuse_activities_of_other_courses(session, existing, data.xapi_activity_ids)
    values = {
        "title": data.title,
        "provider": data.provider,
        "counts_towards": data.counts_towards.value if data.counts_towards else None,
        "pass_required": data.pass_required,
        "minimum_score": data.minimum_score,
        "active": data.active,
    }
    if existing is None:
        course = Course(code=code, version=1, **values)
        try:
            async with session.begin_nested():
                session.add(course)
                await session.flush()
        except IntegrityError:
            raise Conflict(
                f"Course {code} was created by another request at the same time; read it and "
                "send your change with its ETag."
            ) from None
        await repository.replace_activities(session, course.id, data.xapi_activity_ids)
        return CourseView(course, list(data.xapi_activity_ids), created=True)

    current = (await repository.activity_ids_of(session, [existing.id]))[existing.id]
    changed = [f for f in _FIELDS if getattr(existing, f) != values[f]]
    if changed or current != data.xapi_activity_ids:
        for name in changed:
            setattr(existing, name, values[name])
        existing.version += 1
        await session.flush()
        if current != data.xapi_activity_ids:
            await repository.replace_activities(session, existing.id, data.xapi_activity_ids)
        await session.refresh(existing)
    return CourseView(existing, list(data.xapi_activity_ids))


async def _refuse_activities_of_other_courses(
    session: AsyncSession, course: Course | None, activity_ids: list[str]
) -> None:
    owners = await repository.owners_of_activities(session, activity_ids)
    taken = {
        activity_id: owner_code
        for activity_id, (owner_id, owner_code) in owners.items()
        if course is None or owner_id != course.id
    }
    if taken:
        raise Conflict(
            "An xAPI activity id stands for one course at most.",
            invalid_params=[
                ("xapiActivityIds", f"{activity_id} belongs to course {owner}.")
                for activity_id, owner in sorted(taken.items())
            ],
        )


async def load_reference_courses(session: AsyncSession) -> int:
    """Creates or updates the IQT Bronze e-learning course (``IQT-BRONZE``)."""
    await put_course(session, None, IQT_BRONZE_CODE, IQT_BRONZE)
    return 1
