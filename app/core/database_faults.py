"""Telling a database that cannot be reached (down, restarting, refusing) from a bug.

Such errors answer 503 ``database-unavailable`` with ``Retry-After`` instead of 500. They come
wrapped by SQLAlchemy (``DBAPIError`` with the driver's error as its cause, flagged
``connection_invalidated`` when the connection died under it), as the pool's own timeout, or
raw from the driver's connect (``ConnectionRefusedError``, ``TimeoutError``, other
``OSError``). The pool discards a connection that failed this way, and on checkout any other
the server has closed (``app.core.database``), so the next request works once the database is
back.
"""

import types

import asyncpg
from sqlalchemy import exc as sa_exc

RETRY_AFTER_SECONDS = 5

# The driver's errors that say the server is gone, restarting, or refusing connections.
_UNAVAILABLE_DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08, and ConnectionDoesNotExistError
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
    ConnectionError,
    TimeoutError,
)
_UNAVAILABLE_MESSAGES = (
    "connection is closed",  # asyncpg, using a connection that has gone
    "connection was closed",
    "unable to open database file",  # SQLite
    "database is locked",
    "disk i/o error",
)
_DRIVER_MODULES = ("asyncpg", "sqlalchemy", "aiosqlite", "sqlite3")

# The exception classes a handler is installed for; ``is_database_unavailable`` decides.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError)


def is_database_unavailable(error: BaseException) -> bool:
    """True when ``error`` means the database cannot be reached now, not that a query is wrong."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or any(
            _is_unavailable_cause(cause) for cause in _causes(error)
        )
    if isinstance(error, OSError):
        return _raised_by_driver(error.__traceback__)
    return False


def _causes(error: BaseException) -> list[BaseException]:
    """The error, its ``orig``, and their causes: the driver's own error is in there."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen) or len(seen) > 10:
            continue
        seen.append(current)
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return seen


def _is_unavailable_cause(cause: BaseException) -> bool:
    if isinstance(cause, _UNAVAILABLE_DRIVER_ERRORS):
        return True
    if isinstance(cause, sa_exc.SQLAlchemyError):  # its text holds the statement and values
        return False
    message = str(cause).lower()
    return any(text in message for text in _UNAVAILABLE_MESSAGES)


def _raised_by_driver(traceback: types.TracebackType | None) -> bool:
    """An ``OSError`` counts only when it came out of the database driver (its connect)."""
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module.split(".")[0] in _DRIVER_MODULES:
            return True
        traceback = traceback.tb_next
    return False
