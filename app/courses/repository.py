"""Course catalogue queries."""

from collections.abc import Iterable, Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import BuiltOnce, in_parameter
from app.core.pagination import PageRequest, PageResult, keyset, page_of
from app.models import Course, CourseActivity


async def get_by_code(session: AsyncSession, code: str) -> Course | None:
    return await session.scalar(select(Course).where(Course.code == code))


async def activity_ids_of(session: AsyncSession, course_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(course_ids)
    found: dict[int, list[str]] = {course_id: [] for course_id in ids}
    if not ids:
        return found
    rows = await session.execute(
        select(CourseActivity.course_id, CourseActivity.activity_id)
        .where(CourseActivity.course_id.in_(ids))
        .order_by(CourseActivity.course_id, CourseActivity.position)
    )
    for course_id, activity_id in rows:
        found[course_id].append(activity_id)
    return found


async def owners_of_activities(
    session: AsyncSession, activity_ids: Sequence[str]
) -> dict[str, tuple[int, str]]:
    """Activity id → (course id, course code) of the courses already holding them."""
    if not activity_ids:
        return {}
    rows = await session.execute(
        select(CourseActivity.activity_id, Course.id, Course.code)
        .join(Course, Course.id == CourseActivity.course_id)
        .where(CourseActivity.activity_id.in_(list(activity_ids)))
    )
    return {activity_id: (course_id, code) for activity_id, course_id, code in rows}


async def replace_activities(
    session: AsyncSession, course_id: int, activity_ids: Sequence[str]
) -> None:
    await session.execute(delete(CourseActivity).where(CourseActivity.course_id == course_id))
    if activity_ids:
        await session.execute(
            insert(CourseActivity),
            [
                {"activity_id": activity_id, "course_id": course_id, "position": position}
                for position, activity_id in enumerate(activity_ids)
            ],
        )


async def list_courses(
    session: AsyncSession, page: PageRequest, *, active: bool | None
) -> PageResult[Course]:
    query = select(Course)
    if active is not None:
        query = query.where(Course.active.is_(active))
    rows = (await session.scalars(keyset(query, [Course.code], page))).all()
    return page_of(rows, page, key=lambda course: [course.code])


async def course_ids_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(_IDS_BY_CODE(session), {"codes": wanted})
    return {code: course_id for code, course_id in rows}


_IDS_BY_CODE = BuiltOnce(
    lambda dialect: select(Course.code, Course.id).where(
        in_parameter(dialect, Course.code, "codes")
    )
)


async def courses_by_activity(
    session: AsyncSession, activity_ids: Iterable[str]
) -> dict[str, tuple[int, str]]:
    """Activity id → (course id, course code), for the xAPI statements of a request."""
    return await owners_of_activities(session, sorted(set(activity_ids)))
