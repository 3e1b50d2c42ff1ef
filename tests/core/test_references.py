"""References between tables hold on both databases: a row naming a missing row is refused,
and a row that others name cannot be deleted or have its key changed.

On PostgreSQL the busiest of them are checked once per statement by triggers (migration 0009),
not by foreign key constraints; SQLite keeps its constraints. Either way the error is an
IntegrityError, and on PostgreSQL it carries the constraint's name."""

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.models import (
    Award,
    AwardRules,
    Completion,
    Course,
    Organisation,
    StaffHistory,
    StaffMember,
)
from app.models.base import CHECKED_PER_STATEMENT_ON_POSTGRESQL
from tests.conftest import backend_pid, is_postgresql, until_waiting_for_a_lock

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _organisation(code: str) -> Organisation:
    return Organisation(ods_code=code, name=f"Organisation {code}", type="Health Board")


def _member(number: str, organisation: str = "RFX", group: str = "01") -> StaffMember:
    return StaffMember(
        employee_number=number,
        given_name="Siân",
        family_name="Jones",
        organisation_ods_code=organisation,
        staff_group_code=group,
        board_member=False,
        start_date=date(2020, 1, 1),
    )


@pytest.fixture
async def organisation(session: AsyncSession) -> str:
    session.add(_organisation("RFX"))
    await session.commit()
    return "RFX"


async def _refused(session: AsyncSession, constraint: str, *rows: Any) -> None:
    session.add_all(rows)
    with pytest.raises(IntegrityError) as raised:
        await session.flush()
    await session.rollback()
    _names(raised.value, constraint)


def _names(error: DBAPIError, constraint: str) -> None:
    assert constraint in CHECKED_PER_STATEMENT_ON_POSTGRESQL
    if is_postgresql():
        assert constraint in str(error.orig)


async def test_a_staff_member_needs_a_known_organisation_and_staff_group(
    session: AsyncSession, organisation: str
) -> None:
    await _refused(
        session,
        "fk_staff_members_organisation_ods_code_organisations",
        *[_member(f"E{i}") for i in range(30)],
        _member("E99", organisation="NOPE"),
    )
    await _refused(
        session, "fk_staff_members_staff_group_code_staff_groups", _member("E1", group="99")
    )
    session.add(_member("E1"))
    await session.commit()
    with pytest.raises(IntegrityError) as raised:
        await session.execute(
            update(StaffMember)
            .values(organisation_ods_code="NOPE")
            .where(StaffMember.employee_number == "E1")
        )
    await session.rollback()
    _names(raised.value, "fk_staff_members_organisation_ods_code_organisations")


async def test_history_completions_and_awards_need_a_known_person(
    session: AsyncSession, organisation: str
) -> None:
    member = _member("E1")
    course = Course(code="C1", title="Course", provider="test", pass_required=False, active=True)
    session.add_all([member, course])
    await session.flush()
    member_id, course_id = member.id, course.id
    await session.commit()
    missing = member_id + 1000
    await _refused(
        session,
        "fk_staff_history_staff_id_staff_members",
        StaffHistory(
            staff_id=missing,
            valid_from=date(2020, 1, 1),
            organisation_ods_code="RFX",
            staff_group_code="01",
            board_member=False,
        ),
    )
    await _refused(
        session, "fk_completions_staff_id_staff_members", _completion(course_id, "x1", missing)
    )
    await _refused(session, "fk_awards_staff_id_staff_members", _award(missing))
    await _refused(
        session, "fk_awards_rules_version_award_rules", _award(member_id, rules_version=999)
    )
    # An unmatched completion names nobody.
    session.add(_completion(course_id, "x2", None))
    session.add(_completion(course_id, "x3", member_id))
    session.add(_award(member_id))
    await session.commit()


def _completion(course_id: int, external_id: str, staff_id: int | None) -> Completion:
    return Completion(
        client_id="c",
        external_id=external_id,
        channel="api",
        course_id=course_id,
        completed_at=NOW,
        staff_id=staff_id,
        match_status="matched" if staff_id else "unmatched",
    )


def _award(staff_id: int, rules_version: int | None = None) -> Award:
    return Award(
        staff_id=staff_id,
        level="bronze",
        granted_at=NOW,
        rules_version=rules_version,
        evidence={},
        status="active",
    )


async def test_a_referenced_row_cannot_be_deleted_or_rekeyed(
    session: AsyncSession, organisation: str
) -> None:
    member = _member("E1")
    session.add_all([member, _organisation("RFY")])
    await session.flush()
    member_id = member.id
    session.add(
        StaffHistory(
            staff_id=member_id,
            valid_from=date(2020, 1, 1),
            organisation_ods_code="RFX",
            staff_group_code="01",
            board_member=False,
        )
    )
    session.add(_award(member_id, rules_version=1))  # the version the migrations seed
    await session.commit()
    attempts = [
        (delete(AwardRules).where(AwardRules.version == 1), "awards_rules_version"),
        (update(AwardRules).values(version=1000).where(AwardRules.version == 1), "rules_version"),
        (delete(Organisation).where(Organisation.ods_code == "RFX"), "organisation_ods_code"),
        (
            update(Organisation).values(ods_code="RFZ").where(Organisation.ods_code == "RFX"),
            "organisation_ods_code",
        ),
        # Named by both history and an award: either check may refuse first.
        (delete(StaffMember).where(StaffMember.id == member_id), "staff_id_staff_members"),
        (
            update(StaffMember).values(id=member_id + 1000).where(StaffMember.id == member_id),
            "staff_id_staff_members",
        ),
    ]
    for statement, constraint_part in attempts:
        with pytest.raises(IntegrityError) as raised:
            await session.execute(statement)
        await session.rollback()
        if is_postgresql():
            assert constraint_part in str(raised.value.orig)
    # What nothing names can go, and other columns of what is named can change.
    await session.execute(delete(Organisation).where(Organisation.ods_code == "RFY"))
    await session.execute(
        update(Organisation).values(name="Renamed").where(Organisation.ods_code == "RFX")
    )
    await session.commit()


STAFF_INSERT = text(
    "INSERT INTO staff_members (employee_number, given_name, family_name, "
    "organisation_ods_code, staff_group_code, board_member, start_date, version, "
    "created_at, updated_at) VALUES ('E1', 'Siân', 'Jones', 'RFX', '01', false, "
    "'2020-01-01', 1, now(), now())"
)


@pytest.mark.postgresql
async def test_every_check_is_in_place(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        triggers = set(
            (
                await connection.execute(
                    text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
                )
            ).scalars()
        )
    for name in CHECKED_PER_STATEMENT_ON_POSTGRESQL:
        assert {f"{name}_insert", f"{name}_update", f"{name}_referenced"} <= triggers
    referenced = ("organisations", "staff_groups", "staff_members", "award_rules")
    assert {f"refuse_truncate_{t}" for t in referenced} <= triggers


@pytest.mark.postgresql
async def test_a_referenced_table_cannot_be_truncated(
    engine: AsyncEngine, organisation: str
) -> None:
    async with engine.connect() as connection:
        await connection.execute(STAFF_INSERT)
        with pytest.raises(DBAPIError, match="staff_members"):
            await connection.execute(text("TRUNCATE staff_groups"))
        await connection.rollback()


@pytest.mark.postgresql
async def test_above_read_committed_a_referenced_row_is_not_deleted(
    engine: AsyncEngine, organisation: str
) -> None:
    async with engine.connect() as connection:
        await connection.execute(STAFF_INSERT)
        await connection.commit()
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="REPEATABLE READ")
        with pytest.raises(DBAPIError, match="READ COMMITTED"):
            await connection.execute(text("DELETE FROM organisations WHERE ods_code = 'RFX'"))
        await connection.rollback()


@pytest.mark.postgresql
async def test_a_row_naming_one_deleted_since_the_snapshot_is_a_serialization_failure(
    engine: AsyncEngine, organisation: str
) -> None:
    """REPEATABLE READ: the referenced row is still in the transaction's snapshot, but locking
    it finds it deleted since, as a foreign key check would."""
    async with engine.connect() as writer, engine.connect() as deleter:
        await writer.execution_options(isolation_level="REPEATABLE READ")
        await writer.begin()
        await writer.execute(text("SELECT count(*) FROM organisations"))  # takes the snapshot
        await deleter.execute(text("DELETE FROM organisations WHERE ods_code = 'RFX'"))
        await deleter.commit()
        with pytest.raises(DBAPIError, match="could not serialize"):
            await writer.execute(STAFF_INSERT)
        await writer.rollback()


@pytest.mark.postgresql
async def test_deleting_a_referenced_row_waits_for_writers_and_then_refuses(
    engine: AsyncEngine, organisation: str
) -> None:
    """The staff member inserted in a transaction still open is not visible to the delete;
    the delete waits for that transaction (which holds the organisation FOR KEY SHARE), then
    sees the row and refuses."""
    async with engine.connect() as writer, engine.connect() as deleter:
        await writer.begin()
        await writer.execute(STAFF_INSERT)
        await deleter.begin()

        async def delete_organisation() -> None:
            await deleter.execute(text("DELETE FROM organisations WHERE ods_code = 'RFX'"))

        attempt = asyncio.create_task(delete_organisation())
        await until_waiting_for_a_lock(engine, await backend_pid(deleter), attempt)
        assert not attempt.done(), "the delete should wait for the writer"
        await writer.commit()
        with pytest.raises(IntegrityError, match="fk_staff_members_organisation_ods_code"):
            await attempt
        await deleter.rollback()
