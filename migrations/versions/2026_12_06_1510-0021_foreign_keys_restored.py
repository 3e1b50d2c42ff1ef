"""PostgreSQL: the references 0009 and 0011 checked by triggers are foreign keys again.

Migrations 0009 and 0011 replaced six foreign keys with statement-level triggers to save some
20-25 ms per batch of 5,000-10,000 rows. The price was integrity a database of record should
not pay: a referenced row could not be deleted above READ COMMITTED, ``TRUNCATE ... CASCADE``
no longer cascaded, ``ALTER TABLE ... DISABLE TRIGGER USER`` switched the checks off, schema
tools did not see the relationships, and the list of references was kept in three places.

Upgrading runs what 0011's and then 0009's downgrades run: drop the triggers, restore each
foreign key under the name the models' naming convention gives it, drop the trigger
functions. Downgrading runs their upgrades, putting the triggers back exactly as they were.
Restoring a key checks every existing row, and writers to both tables wait meanwhile (readers
do not). SQLite kept its foreign keys throughout: nothing to do there.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 15:10:00+00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _revision(number: str) -> ModuleType:
    """The migration module of revision ``number`` in this folder (its file name starts with
    a date, so it is loaded by path rather than imported)."""
    (path,) = Path(__file__).parent.glob(f"*-{number}_*.py")
    spec = importlib.util.spec_from_file_location(f"iqt_migration_{number}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    # Each returns at once on SQLite. 0011's triggers use 0009's functions: 0011's go first.
    _revision("0011").downgrade()
    _revision("0009").downgrade()


def downgrade() -> None:
    _revision("0009").upgrade()
    _revision("0011").upgrade()
