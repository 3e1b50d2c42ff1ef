"""Structured JSON logs; request id, client id and route are bound per request.

No personal data: the engine never puts statement parameters in its errors (``hide_parameters``)
and an exception raised by the database is logged with its traceback and SQL, but without the
database's own message, which can quote the values of a row (PostgreSQL's ``DETAIL: Key
(work_email)=(...)``).
"""

import logging
import sys
import traceback
from collections.abc import Iterator, MutableMapping
from typing import Any, TextIO

import structlog
from sqlalchemy.exc import DBAPIError

WITHHELD = "(message withheld: a database error may quote personal data)"
# Drivers whose debug lines show every statement's parameters: never below INFO.
_CHATTY_DRIVERS = ("aiosqlite", "asyncpg")


class _CurrentStdout:
    """Standard output as it is when a line is written (tests capture it per test)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def configure_logging(level: str = "INFO") -> None:
    stream: TextIO = _CurrentStdout()  # type: ignore[assignment]
    logging.basicConfig(format="%(message)s", stream=stream, level=level.upper(), force=True)
    for driver in _CHATTY_DRIVERS:
        logging.getLogger(driver).setLevel(logging.INFO)
    # Alembic's notes ("Context impl ...") are not the service's log lines; `iqt migrate` and
    # `iqt serve` report migrations through alembic.ini's own logging configuration.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _withhold_database_messages,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str = "iqt") -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]


def _withhold_database_messages(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """An exception caused by the database is rendered here, its messages left out."""
    error = _exception(event_dict.get("exc_info"))
    if error is None or not any(isinstance(e, DBAPIError) for e in _chain(error)):
        return event_dict
    del event_dict["exc_info"]
    event_dict["exception"] = "".join(_without_messages(error))
    return event_dict


def _exception(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple):
        return exc_info[1] if isinstance(exc_info[1], BaseException) else None
    if exc_info:
        return sys.exc_info()[1]
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _without_messages(error: BaseException) -> Iterator[str]:
    """The traceback of each exception in the chain, oldest first, each with its type, the SQL
    (placeholders only) and SQLSTATE of a database error, but no exception message."""
    for link in reversed(list(_chain(error))):
        yield "Traceback (most recent call last):\n"
        yield from traceback.format_tb(link.__traceback__)
        yield f"{type(link).__module__}.{type(link).__qualname__}: {WITHHELD}\n"
        if isinstance(link, DBAPIError):
            sqlstate = getattr(link.orig, "sqlstate", None) or getattr(link.orig, "pgcode", None)
            yield f"SQLSTATE: {sqlstate}\nSQL: {link.statement}\n"
