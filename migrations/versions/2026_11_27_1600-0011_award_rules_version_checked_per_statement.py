"""PostgreSQL: an award's rules version is checked once per statement, not once per row.

Migration 0009 moved the busiest references to statement-level checks. The award's rules
version was left a foreign key, and it was then the costliest per-row check a completion batch
makes: granting Bronze to 10,000 people spent 21 ms in it against 130 ms for the insert. It is
now checked by the same functions as those of 0009, with the same guarantees (see there):
a version that does not exist is refused under the same constraint name and SQLSTATE 23503;
a version that awards name cannot be deleted or renumbered, nor award_rules truncated while
awards name its rows. As with 0009, a rules version cannot be deleted or renumbered above READ
COMMITTED at all, and TRUNCATE ... CASCADE no longer empties awards with it (the service does
neither: rules versions are never changed). SQLite keeps the foreign key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 16:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "fk_awards_rules_version_award_rules"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(NAME, "awards", type_="foreignkey")
    for event in ("insert", "update"):
        op.execute(
            f"CREATE TRIGGER {NAME}_{event} AFTER {event.upper()} ON awards "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "
            f"iqt_check_references('rules_version', 'award_rules', 'version', '{NAME}')"
        )
    op.execute(
        f"CREATE TRIGGER {NAME}_referenced AFTER DELETE OR UPDATE OF version ON award_rules "
        "FOR EACH ROW EXECUTE FUNCTION "
        f"iqt_refuse_referenced_change('version', 'awards', 'rules_version', '{NAME}')"
    )
    op.execute(
        "CREATE TRIGGER refuse_truncate_award_rules AFTER TRUNCATE ON award_rules "
        "FOR EACH STATEMENT EXECUTE FUNCTION iqt_refuse_truncate('awards')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER refuse_truncate_award_rules ON award_rules")
    op.execute(f"DROP TRIGGER {NAME}_referenced ON award_rules")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER {NAME}_{event} ON awards")
    op.create_foreign_key(NAME, "awards", "award_rules", ["rules_version"], ["version"])
