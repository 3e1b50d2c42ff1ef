"""PostgreSQL: the busiest references are checked once per statement, not once per row.

A foreign key is checked by a trigger that runs one query per inserted row. Loading 5,000 staff
spent 27 ms in the two checks of staff_members (organisation, staff group) against 28 ms for
the insert itself, and 21 ms in staff_history's check against 14 ms for its insert. These five
references are now checked with a few statements per insert or update: lock the rows the
statement's new rows name, and compare the counts (an anti-join finds the missing key for the
message). For the same rows: 2 ms for each of staff_members' checks, 8 ms for staff_history's,
which locks the 5,000 staff rows as the foreign key did.

What a foreign key guarantees still holds, under the same constraint names and SQLSTATE 23503:
- a row whose reference does not exist is refused when it is inserted or updated. The rows it
  names are locked FOR KEY SHARE, as a foreign key check locks them, so they cannot be deleted
  or rekeyed until its transaction ends;
- a referenced row cannot be deleted, nor its key changed: the change waits for the writers
  holding it, then finds what they committed and is refused. It is refused at isolation levels
  above READ COMMITTED, where it could not see them (the service's transactions are READ
  COMMITTED, and it deletes none of these rows: the guard is for hands at the database);
- TRUNCATE of a referenced table is refused while a referencing table has rows.
``ALTER TABLE ... DISABLE TRIGGER USER`` turns these checks off, where it would leave foreign
keys alone.

SQLite keeps its foreign keys (``PRAGMA foreign_keys=ON``): its check per row is cheap.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 13:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (referencing table, column, referenced table, its key): the constraint names follow the
# models' naming convention, fk_<table>_<column>_<referenced table>.
REFERENCES = (
    ("staff_members", "organisation_ods_code", "organisations", "ods_code"),
    ("staff_members", "staff_group_code", "staff_groups", "code"),
    ("staff_history", "staff_id", "staff_members", "id"),
    ("completions", "staff_id", "staff_members", "id"),
    ("awards", "staff_id", "staff_members", "id"),
)

CHECK_NEW_ROWS = """
CREATE FUNCTION iqt_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
-- Statement level, AFTER INSERT or UPDATE, with the statement's rows as new_rows.
-- Arguments: column, referenced table, its key, constraint name.
-- As a foreign key check does, the referenced rows are locked FOR KEY SHARE, so that they
-- cannot be deleted or given another key before this transaction ends (under REPEATABLE READ,
-- one deleted since the transaction's snapshot is a serialization failure); then a key that
-- was not found is refused.
DECLARE
    wanted bigint;
    found bigint;
    missing text;
BEGIN
    EXECUTE format('SELECT count(DISTINCT n.%1$I) FROM new_rows n', TG_ARGV[0]) INTO wanted;
    IF wanted = 0 THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'SELECT count(*) FROM (SELECT FROM %1$I.%2$I r WHERE r.%3$I IN '
        '(SELECT n.%4$I FROM new_rows n) FOR KEY SHARE OF r) locked',
        TG_TABLE_SCHEMA, TG_ARGV[1], TG_ARGV[2], TG_ARGV[0]
    ) INTO found;
    IF found = wanted THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'SELECT n.%1$I::text FROM new_rows n WHERE n.%1$I IS NOT NULL '
        'AND NOT EXISTS (SELECT FROM %2$I.%3$I r WHERE r.%4$I = n.%1$I) LIMIT 1',
        TG_ARGV[0], TG_TABLE_SCHEMA, TG_ARGV[1], TG_ARGV[2]
    ) INTO missing;
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
        TG_TABLE_NAME, TG_ARGV[3]
    USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[3],
        TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA,
        DETAIL = format('Key (%s)=(%s) is not present in table "%s".',
                        TG_ARGV[0], missing, TG_ARGV[1]);
END
$$
"""

REFUSE_REFERENCED = """
CREATE FUNCTION iqt_refuse_referenced_change() RETURNS trigger LANGUAGE plpgsql AS $$
-- Row level, AFTER DELETE or UPDATE OF the key, on a referenced table. Arguments: its key,
-- the referencing table, its column, constraint name. A writer that inserted a row naming
-- this one holds it FOR KEY SHARE, so this change waited for that writer to end and, under
-- READ COMMITTED, now sees what it committed. Under REPEATABLE READ it would not (a foreign
-- key has a snapshot of its own for this), so the change is refused there: the service never
-- deletes these rows, and nobody should at another isolation level.
DECLARE
    old_key text := to_jsonb(OLD) ->> TG_ARGV[0];
    referenced boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND old_key IS NOT DISTINCT FROM to_jsonb(NEW) ->> TG_ARGV[0] THEN
        RETURN NULL;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'rows of "%" that other tables name are deleted or rekeyed only at '
            'READ COMMITTED', TG_TABLE_NAME
        USING ERRCODE = 'serialization_failure', CONSTRAINT = TG_ARGV[3];
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT FROM %1$I.%2$I r WHERE r.%3$I = ($1).%4$I)',
                   TG_TABLE_SCHEMA, TG_ARGV[1], TG_ARGV[2], TG_ARGV[0])
    INTO referenced USING OLD;
    IF referenced THEN
        RAISE EXCEPTION
            'update or delete on table "%" violates foreign key constraint "%" on table "%"',
            TG_TABLE_NAME, TG_ARGV[3], TG_ARGV[1]
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[3],
            TABLE = TG_ARGV[1], SCHEMA = TG_TABLE_SCHEMA,
            DETAIL = format('Key (%s)=(%s) is still referenced from table "%s".',
                            TG_ARGV[0], old_key, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END
$$
"""

REFUSE_TRUNCATE = """
CREATE FUNCTION iqt_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
-- Statement level, AFTER TRUNCATE, on a referenced table. Arguments: the referencing tables.
-- A foreign key refuses TRUNCATE of the table it names unless the referencing table goes too.
DECLARE
    referencing text;
    referenced boolean;
BEGIN
    FOREACH referencing IN ARRAY TG_ARGV LOOP
        EXECUTE format('SELECT EXISTS (SELECT FROM %I.%I)', TG_TABLE_SCHEMA, referencing)
        INTO referenced;
        IF referenced THEN
            RAISE EXCEPTION 'cannot truncate table "%": table "%" names its rows',
                TG_TABLE_NAME, referencing
            USING ERRCODE = 'feature_not_supported', TABLE = TG_TABLE_NAME,
                SCHEMA = TG_TABLE_SCHEMA;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$
"""


def _constraint(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CHECK_NEW_ROWS)
    op.execute(REFUSE_REFERENCED)
    op.execute(REFUSE_TRUNCATE)
    for table, column, referred, key in REFERENCES:
        name = _constraint(table, column, referred)
        arguments = f"'{column}', '{referred}', '{key}', '{name}'"
        op.drop_constraint(name, table, type_="foreignkey")
        for event in ("insert", "update"):
            op.execute(
                f"CREATE TRIGGER {name}_{event} AFTER {event.upper()} ON {table} "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                f"EXECUTE FUNCTION iqt_check_references({arguments})"
            )
        op.execute(
            f"CREATE TRIGGER {name}_referenced AFTER DELETE OR UPDATE OF {key} ON {referred} "
            f"FOR EACH ROW EXECUTE FUNCTION iqt_refuse_referenced_change("
            f"'{key}', '{table}', '{column}', '{name}')"
        )
    for referred in sorted({r[2] for r in REFERENCES}):
        referencing = sorted({r[0] for r in REFERENCES if r[2] == referred})
        op.execute(
            f"CREATE TRIGGER refuse_truncate_{referred} AFTER TRUNCATE ON {referred} "
            "FOR EACH STATEMENT EXECUTE FUNCTION iqt_refuse_truncate("
            + ", ".join(f"'{t}'" for t in referencing)
            + ")"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for referred in sorted({r[2] for r in REFERENCES}):
        op.execute(f"DROP TRIGGER refuse_truncate_{referred} ON {referred}")
    for table, column, referred, key in REFERENCES:
        name = _constraint(table, column, referred)
        op.execute(f"DROP TRIGGER {name}_referenced ON {referred}")
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER {name}_{event} ON {table}")
        op.create_foreign_key(name, table, referred, [column], [key])
    op.execute("DROP FUNCTION iqt_refuse_truncate()")
    op.execute("DROP FUNCTION iqt_refuse_referenced_change()")
    op.execute("DROP FUNCTION iqt_check_references()")
