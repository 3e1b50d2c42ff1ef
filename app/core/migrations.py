"""Alembic, driven from code: the CLI, ``iqt serve`` and the tests all migrate through here."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str | None = None) -> Config:
    """The project's Alembic configuration (alembic.ini in the working directory or source)."""
    root = Path.cwd() if (Path.cwd() / "alembic.ini").exists() else _SOURCE_ROOT
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Upgrades the database to the latest revision (opens its own connection)."""
    command.upgrade(alembic_config(database_url), "head")


def upgrade_on_connection(connection: Connection, revision: str = "head") -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def downgrade_on_connection(connection: Connection, revision: str = "base") -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)
