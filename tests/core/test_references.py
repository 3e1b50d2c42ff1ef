"""References between tables hold on both databases: a row naming a missing row is refused,
and a row that others name cannot be deleted or have its key changed.

They are foreign key constraints on both, declared by the models alone (on PostgreSQL,
migrations 0009 and 0011 had replaced six of them with triggers; 0020 put them back). The
tests marked postgresql attack them as someone at the database would: other isolation levels,
TRUNCATE, disabled triggers, and the catalogue schema tools read."""

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
    Base,
    Completion,
    Course,
    Organisation,
    StaffHistory,
    StaffMember,
)
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


# Every foreign key the models declare, by the name the naming convention gives it.
DECLARED = {
    fk.name: (table.name, fk.column_keys[0], fk.referred_table.name, fk.elements[0].column.name)
    for table in Base.metadata.tables.values()
    for fk in table.foreign_key_constraints
}


def _names(error: DBAPIError, constraint: str) -> None:
    assert constraint in DECLARED
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
HISTORY_INSERT = text(
    "INSERT INTO staff_history (staff_id, valid_from, organisation_ods_code, staff_group_code, "
    "board_member) SELECT id, '2020-01-01', 'RFX', '01', false FROM staff_members"
)
AWARD_INSERT = text(
    "INSERT INTO awards (staff_id, level, granted_at, attained_at, rules_version, evidence, "
    "status, created_at, updated_at) "
    "SELECT id, 'bronze', now(), now(), 1, '{}', 'active', now(), now() FROM staff_members"
)
ORGANISATION_FK = "fk_staff_members_organisation_ods_code_organisations"


def _violation(error: DBAPIError) -> tuple[str, str]:
    """The SQLSTATE and constraint name PostgreSQL reported (asyncpg's error, under the DBAPI
    one SQLAlchemy wraps)."""
    server_error = error.orig.__cause__  # type: ignore[union-attr]
    return server_error.sqlstate, server_error.constraint_name  # type: ignore[union-attr]


@pytest.mark.postgresql
async def test_every_reference_the_models_declare_is_a_foreign_key_in_the_catalogue(
    engine: AsyncEngine,
) -> None:
    """What schema tools read (information_schema, pg_constraint) lists each reference, and
    no trigger of the schema's own stands in for one."""
    async with engine.connect() as connection:
        listed = (
            await connection.execute(
                text(
                    "SELECT c.constraint_name, k.table_name, k.column_name, "
                    "u.table_name, u.column_name "
                    "FROM information_schema.referential_constraints c "
                    "JOIN information_schema.key_column_usage k USING (constraint_name) "
                    "JOIN information_schema.constraint_column_usage u USING (constraint_name) "
                    "WHERE c.constraint_schema = 'public'"
                )
            )
        ).all()
        in_pg_constraint = set(
            (
                await connection.execute(
                    text(
                        "SELECT conname FROM pg_constraint "
                        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
                    )
                )
            ).scalars()
        )
        user_triggers = (
            await connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
        ).all()
    assert {name: tuple(rest) for name, *rest in listed} == DECLARED
    assert in_pg_constraint == set(DECLARED)
    assert user_triggers == []


@pytest.mark.postgresql
async def test_a_row_naming_a_missing_reference_is_refused_under_the_constraint_name(
    engine: AsyncEngine, organisation: str
) -> None:
    async with engine.connect() as connection:
        with pytest.raises(DBAPIError) as raised:
            await connection.execute(
                text(
                    "INSERT INTO awards (staff_id, level, granted_at, attained_at, evidence, "
                    "status, created_at, updated_at) VALUES "
                    "(424242, 'bronze', now(), now(), '{}', 'active', now(), now())"
                )
            )
        await connection.rollback()
    assert _violation(raised.value) == ("23503", "fk_awards_staff_id_staff_members")


@pytest.mark.postgresql
@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"])
async def test_a_referenced_row_is_not_deleted_at_any_isolation_level(
    engine: AsyncEngine, organisation: str, isolation: str
) -> None:
    async with engine.connect() as connection:
        await connection.execute(STAFF_INSERT)
        await connection.execute(AWARD_INSERT)
        await connection.commit()
    attempts = [
        ("DELETE FROM organisations WHERE ods_code = 'RFX'", ORGANISATION_FK),
        ("DELETE FROM award_rules WHERE version = 1", "fk_awards_rules_version_award_rules"),
        ("UPDATE staff_members SET id = id + 1000", "fk_awards_staff_id_staff_members"),
    ]
    for statement, constraint in attempts:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level=isolation)
            with pytest.raises(DBAPIError) as raised:
                await connection.execute(text(statement))
            await connection.rollback()
        assert _violation(raised.value) == ("23503", constraint), statement


@pytest.mark.postgresql
async def test_truncate_of_a_referenced_table_is_refused_unless_it_cascades(
    engine: AsyncEngine, organisation: str
) -> None:
    """Without CASCADE, TRUNCATE refuses while other tables name the rows; with it, the tables
    that name them (and those naming these, in turn) are emptied with it."""
    async with engine.connect() as connection:
        await connection.execute(STAFF_INSERT)
        await connection.execute(HISTORY_INSERT)
        await connection.execute(AWARD_INSERT)
        await connection.commit()
        with pytest.raises(DBAPIError) as raised:
            await connection.execute(text("TRUNCATE staff_groups"))
        await connection.rollback()
        assert raised.value.orig.__cause__.sqlstate == "0A000"  # type: ignore[union-attr]
        await connection.execute(text("TRUNCATE staff_groups CASCADE"))
        left = await connection.execute(
            text(
                "SELECT (SELECT count(*) FROM staff_members), (SELECT count(*) FROM "
                "staff_history), (SELECT count(*) FROM awards), (SELECT count(*) FROM "
                "organisations)"
            )
        )
        # The rollback puts the seeded staff groups back for the tests that follow.
        await connection.rollback()
    assert left.one() == (0, 0, 0, 1)


@pytest.mark.postgresql
async def test_disabling_user_triggers_leaves_references_checked(
    engine: AsyncEngine, organisation: str
) -> None:
    async with engine.connect() as connection:
        await connection.execute(STAFF_INSERT)
        await connection.commit()
        await connection.execute(text("ALTER TABLE staff_members DISABLE TRIGGER USER"))
        with pytest.raises(DBAPIError) as inserted:
            await connection.execute(
                text("UPDATE staff_members SET organisation_ods_code = 'NOPE'")
            )
        await connection.rollback()
        await connection.execute(text("ALTER TABLE organisations DISABLE TRIGGER USER"))
        with pytest.raises(DBAPIError) as deleted:
            await connection.execute(text("DELETE FROM organisations WHERE ods_code = 'RFX'"))
        await connection.rollback()  # the triggers are enabled again with it
    assert _violation(inserted.value) == ("23503", ORGANISATION_FK)
    assert _violation(deleted.value) == ("23503", ORGANISATION_FK)


@pytest.mark.postgresql
async def test_a_row_naming_one_deleted_since_the_snapshot_is_a_serialization_failure(
    engine: AsyncEngine, organisation: str
) -> None:
    """REPEATABLE READ: the referenced row is still in the transaction's snapshot, but the
    foreign key's check finds it deleted since."""
    async with engine.connect() as writer, engine.connect() as deleter:
        await writer.execution_options(isolation_level="REPEATABLE READ")
        await writer.begin()
        await writer.execute(text("SELECT count(*) FROM organisations"))  # takes the snapshot
        await deleter.execute(text("DELETE FROM organisations WHERE ods_code = 'RFX'"))
        await deleter.commit()
        with pytest.raises(DBAPIError) as raised:
            await writer.execute(STAFF_INSERT)
        await writer.rollback()
    assert raised.value.orig.__cause__.sqlstate == "40001"  # type: ignore[union-attr]


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
        with pytest.raises(IntegrityError) as raised:
            await attempt
        await deleter.rollback()
    assert _violation(raised.value) == ("23503", ORGANISATION_FK)
