"""The services some tests need beyond the embedded SQLite (PostgreSQL, Redis), and what a run
does when one is missing: skip those tests with one line saying how to run them, or, in CI
(``CI=true``), fail the run."""

import os
import socket

import pytest

REDIS_URL = os.environ.get("IQT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRED = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Why each missing service skipped tests, and how many; printed once at the end of the run.
SKIPPED: dict[str, int] = {}

HOW_TO_RUN = {
    "PostgreSQL": "run `IQT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/iqt_test "
    "make test` (or set IQT_TEST_DATABASE_URL for pytest) to run them",
    "Redis": "start Redis on 127.0.0.1:6379, or point IQT_TEST_REDIS_URL at one, to run them",
}


def redis_address() -> tuple[str, int]:
    host, port = REDIS_URL.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)
    return host, int(port)


def require_redis() -> None:
    """Skips the calling test when Redis does not answer; fails it in CI."""
    try:
        socket.create_connection(redis_address(), timeout=2).close()
    except OSError as exc:
        if REQUIRED:
            pytest.fail(f"Redis at {REDIS_URL} is unreachable ({exc}); CI needs it")
        SKIPPED["Redis"] = SKIPPED.get("Redis", 0) + 1
        pytest.skip(f"needs Redis at {REDIS_URL}")


def summary_lines() -> list[str]:
    return [
        f"{count} test{'s' if count != 1 else ''} skipped: they need {service}; "
        f"{HOW_TO_RUN[service]}"
        for service, count in sorted(SKIPPED.items())
    ]
