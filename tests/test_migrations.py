"""The migrations build the schema the models describe, and run down and up again."""

import uuid
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.database import _configure_sqlite
from app.core.migrations import alembic_config, downgrade_on_connection, upgrade_on_connection
from app.core.settings import to_async_url
from app.models import Base
from tests.conftest import is_postgresql, new_engine


@pytest.fixture
async def scratch_engine(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """An empty database of the kind under test, dropped afterwards."""
    if not is_postgresql():
        engine = new_engine(f"sqlite:///{tmp_path_factory.mktemp('mig') / 'scratch.db'}")
        _configure_sqlite(engine)
        yield engine
        await engine.dispose()
        return
    name = f"iqt_scratch_{uuid.uuid4().hex[:12]}"
    admin = new_engine(
        make_url(to_async_url(database_url)).set(database="postgres").render_as_string(False)
    )
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = new_engine(
        make_url(to_async_url(database_url)).set(database=name).render_as_string(False)
    )
    yield engine
    await engine.dispose()
    async with admin.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    await admin.dispose()


def _differences(connection) -> list:  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True},
    )
    return compare_metadata(context, Base.metadata)


def _tables(connection) -> set[str]:  # type: ignore[no-untyped-def]
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def test_upgrade_downgrade_upgrade_round_trip(scratch_engine: AsyncEngine) -> None:
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection)
    async with scratch_engine.begin() as connection:
        assert await connection.run_sync(_tables) == set(Base.metadata.tables)
        await connection.run_sync(downgrade_on_connection)
    async with scratch_engine.begin() as connection:
        assert await connection.run_sync(_tables) == set()
        await connection.run_sync(upgrade_on_connection)
    async with scratch_engine.begin() as connection:
        assert await connection.run_sync(_tables) == set(Base.metadata.tables)


async def test_models_and_migrations_agree(scratch_engine: AsyncEngine) -> None:
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection)
    async with scratch_engine.connect() as connection:
        assert await connection.run_sync(_differences) == []


async def test_completions_stored_before_0012_keep_their_clients_organisations(
    scratch_engine: AsyncEngine,
) -> None:
    """A completion left unmatched before 0012 is matched later within the organisations its
    client is restricted to, as one recorded after."""
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection, "0011")
        # PostgreSQL takes text for a JSON column only cast; SQLite stores the text as it is.
        insert_client = (
            "INSERT INTO api_clients (client_id, name, secret_hash, scopes, organisations, "
            "created_at) VALUES (:client_id, :client_id, 'x', CAST('[]' AS JSON), "
            "CAST(:organisations AS JSON), CURRENT_TIMESTAMP)"
            if is_postgresql()
            else "INSERT INTO api_clients (client_id, name, secret_hash, scopes, organisations, "
            "created_at) VALUES (:client_id, :client_id, 'x', '[]', :organisations, "
            "CURRENT_TIMESTAMP)"
        )
        for client_id, organisations in (("restricted", '["7A6", "7A4"]'), ("open", "null")):
            await connection.execute(
                text(insert_client),
                {"client_id": client_id, "organisations": organisations},
            )
            await connection.execute(
                text(
                    "INSERT INTO completions (client_id, external_id, channel, course_id, "
                    "employee_number, completed_at, match_status, created_at, updated_at) "
                    "VALUES (:client_id, 'cc-1', 'api', 1, '100001', CURRENT_TIMESTAMP, "
                    "'unmatched', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"client_id": client_id},
            )
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection)
        rows = await connection.execute(
            text("SELECT client_id, sender_organisations FROM completions ORDER BY client_id")
        )
        assert rows.all() == [("open", None), ("restricted", "7A4 7A6")]


_BEFORE_0014 = [
    "INSERT INTO organisations (ods_code, name, type, active, version) "
    "VALUES ('7A4', 'Cardiff and Vale', 'healthBoard', true, 1)",
    "INSERT INTO staff_members (id, employee_number, given_name, family_name, "
    "organisation_ods_code, staff_group_code, board_member, start_date, version) "
    "VALUES (1, '100001', 'Siân', 'Llŷr', '7A4', '03', false, '2019-04-01', 2)",
    # The race of issue #21: two open periods, the second one where the record says.
    "INSERT INTO staff_history (id, staff_id, valid_from, valid_to, organisation_ods_code, "
    "staff_group_code, board_member) VALUES (1, 1, '2019-04-01', NULL, '7A4', '02', false), "
    "(2, 1, '2019-04-01', NULL, '7A4', '03', false), "
    "(3, 1, '2018-01-01', '2019-04-01', '7A4', '02', false)",
    "INSERT INTO awards (id, staff_id, level, granted_at, rules_version, evidence, status, "
    "created_at, updated_at) VALUES "
    "(1, 1, 'bronze', '2026-01-02 09:00:00+00', 1, '{}', 'active', '2026-03-04 10:00:00+00', "
    "'2026-03-04 10:00:00+00'), "
    "(2, 1, 'silver', '2019-06-30 00:00:00+00', NULL, '{}', 'active', "
    "'2026-03-04 10:00:00+00', '2026-03-04 10:00:00+00')",
]


def _as_text(value: object) -> str:
    return str(value)[:16].replace("T", " ")


async def test_0014_keeps_one_open_period_and_dates_awards_by_attainment(
    scratch_engine: AsyncEngine,
) -> None:
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection, "0013")
        for statement in _BEFORE_0014:
            await connection.execute(text(statement))
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection)
    async with scratch_engine.begin() as connection:
        history = (await connection.execute(text("SELECT id FROM staff_history ORDER BY id"))).all()
        assert [row[0] for row in history] == [2, 3]
        awards = (
            await connection.execute(text("SELECT attained_at, granted_at FROM awards ORDER BY id"))
        ).all()
        assert [(_as_text(a), _as_text(g)) for a, g in awards] == [
            ("2026-01-02 09:00", "2026-03-04 10:00"),  # rules-granted: granted when created
            ("2019-06-30 00:00", "2019-06-30 00:00"),  # legacy: as recorded
        ]
        await connection.run_sync(downgrade_on_connection, "0013")
    async with scratch_engine.begin() as connection:
        granted = (
            await connection.execute(text("SELECT granted_at FROM awards ORDER BY id"))
        ).all()
        assert [_as_text(g) for (g,) in granted] == ["2026-01-02 09:00", "2019-06-30 00:00"]


def _below_restored_foreign_keys() -> str:
    """The revision before the one that restored the foreign keys (found by its file name:
    revision ids are renumbered when branches merge)."""
    script = ScriptDirectory.from_config(alembic_config())
    (restoring,) = [
        r for r in script.walk_revisions() if r.path.endswith("_foreign_keys_restored.py")
    ]
    return str(restoring.down_revision)


_REFERENCE_CHECKS = text(
    "SELECT (SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
    "AND conname = 'fk_awards_rules_version_award_rules'), "
    "(SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal), "
    "(SELECT count(*) FROM pg_proc WHERE proname LIKE 'iqt\\_%')"
)


@pytest.mark.postgresql
async def test_the_foreign_keys_migration_puts_the_triggers_back_when_undone(
    scratch_engine: AsyncEngine,
) -> None:
    """Below 0021 the six references are checked by 0009's and 0011's triggers and functions
    (six times three triggers, four refusing TRUNCATE, three functions), and the foreign key
    is gone; upgrading again swaps them back."""
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection)
        assert (await connection.execute(_REFERENCE_CHECKS)).one() == (1, 0, 0)
        await connection.run_sync(downgrade_on_connection, _below_restored_foreign_keys())
        assert (await connection.execute(_REFERENCE_CHECKS)).one() == (0, 22, 3)
        await connection.run_sync(upgrade_on_connection)
        assert (await connection.execute(_REFERENCE_CHECKS)).one() == (1, 0, 0)


async def test_0024_copies_the_keys_of_statements_named_by_statement_ref(
    scratch_engine: AsyncEngine,
) -> None:
    """Statements stored before 0024 that name another are found by its filters after it."""
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection, "0022")
        for pk, verb, registration, ref in (
            (1, "attempted", "ec531277-b57b-4c15-8d91-d292c5b2b8f7", None),
            (2, "completed", None, "00000000-0000-4000-8000-000000000001"),
            (3, "completed", None, "00000000-0000-4000-8000-000000000009"),  # never stored
        ):
            await connection.execute(
                text(
                    "INSERT INTO xapi_statements (id, statement_id, client_id, stored_at, "
                    "verb_id, registration, voided, statement_ref, content_hash, statement) "
                    "VALUES (:pk, :sid, 'lms', CURRENT_TIMESTAMP, :verb, :registration, false, "
                    ":ref, 'h', :document)"
                ),
                {"pk": pk, "sid": f"00000000-0000-4000-8000-00000000000{pk}", "verb": verb,
                 "registration": registration, "ref": ref, "document": "{}"},
            )  # fmt: skip
        await connection.execute(
            text(
                "INSERT INTO xapi_statement_links (statement_pk, kind, key, direct) VALUES "
                "(1, 'agent', 'mbox:mailto:a@example.org', true), "
                "(1, 'activity', 'http://example.com/parent', false), "
                "(2, 'agent', 'mbox:mailto:b@example.org', true)"
            )
        )
    async with scratch_engine.begin() as connection:
        await connection.run_sync(upgrade_on_connection)
        rows = await connection.execute(
            text(
                "SELECT statement_pk, kind, key, direct FROM xapi_statement_ref_keys "
                "ORDER BY statement_pk, kind"
            )
        )
        assert [tuple(row) for row in rows] == [
            (2, "activity", "http://example.com/parent", False),
            (2, "agent", "mbox:mailto:a@example.org", True),
            (2, "registration", "ec531277-b57b-4c15-8d91-d292c5b2b8f7", True),
            (2, "verb", "attempted", True),
        ]
