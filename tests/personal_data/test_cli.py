"""`iqt personal-data pseudonymise [--dry-run]`, run against a SQLite file as an operator would."""

from pathlib import Path

from tests.test_cli import _restore_logging, _rows, database, iqt  # noqa: F401 - fixtures

LEAVER = (
    "INSERT INTO staff_members (employee_number, given_name, family_name, work_email, "
    "work_email_key, organisation_ods_code, staff_group_code, board_member, start_date, "
    "end_date, version, created_at, updated_at) VALUES ('{number}', 'Olwen', '{family}', "
    "'{family}@wales.nhs.uk', '{family}@wales.nhs.uk', '7A4', '{group}', 0, '2010-01-01', "
    "'{end}', 1, '2020-01-01 00:00:00', '2020-01-01 00:00:00')"
)


async def _people(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO organisations (ods_code, name, type, active, version) "
            "VALUES ('7A4', 'Cardiff and Vale', 'healthBoard', 1, 1)"
        )
        group = connection.execute("SELECT code FROM staff_groups LIMIT 1").fetchone()[0]
        for number, family, end in (("1", "Longgone", "2012-03-31"), ("2", "Recent", "2099-01-01")):
            connection.execute(LEAVER.format(number=number, family=family, group=group, end=end))


async def test_a_dry_run_says_who_is_due_and_changes_nothing(database: Path) -> None:  # noqa: F811
    await _people(database)

    result = await iqt("personal-data", "pseudonymise", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "not yet pseudonymised: 1 (7A4: 1)" in result.output
    assert "dry run: nothing changed" in result.output
    assert _rows(database, "SELECT count(*) FROM staff_pseudonymisations") == [(0,)]
    assert "Longgone" not in result.output


async def test_a_run_pseudonymises_the_leavers_who_are_due(database: Path) -> None:  # noqa: F811
    await _people(database)

    result = await iqt("personal-data", "pseudonymise")

    assert result.exit_code == 0, result.output
    assert "pseudonymised 1" in result.output
    assert _rows(database, "SELECT family_name FROM staff_members ORDER BY id") == [
        ("Person 1",),
        ("Recent",),
    ]
    assert _rows(database, "SELECT status, pseudonymised FROM retention_jobs") == [("done", 1)]
