"""The background runner of award re-evaluation jobs: what it logs while the database is down."""

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from app.awards.jobs import IDLE_SECONDS, RETRY_SECONDS, run_forever


class Outage:
    """A sessionmaker whose sessions cannot connect while ``down``, and a sleep that ends the
    outage after ``attempts`` failed steps and stops the runner at its first idle wait."""

    def __init__(self, real: async_sessionmaker[AsyncSession], attempts: int) -> None:
        self.real = real
        self.attempts = attempts
        self.down = True
        self.now = 1000.0
        self.slept: list[float] = []

    def sessionmaker(self) -> Any:
        if self.down:
            return _Unreachable()
        return self.real()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if seconds == IDLE_SECONDS:
            raise asyncio.CancelledError
        if len(self.slept) == self.attempts:
            self.down = False


class _Unreachable:
    async def __aenter__(self) -> AsyncSession:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_an_outage_is_logged_once_then_one_line_a_retry_and_its_end(app: Any) -> None:
    outage = Outage(app.state.sessionmaker, attempts=4)
    with capture_logs() as entries, pytest.raises(asyncio.CancelledError):
        await run_forever(
            outage.sessionmaker,  # type: ignore[arg-type]
            "runner-1",
            sleep=outage.sleep,
            clock=outage.clock,
        )
    assert outage.slept == [RETRY_SECONDS] * 4 + [IDLE_SECONDS]
    logged = [(e["event"], e["log_level"]) for e in entries]
    assert logged == [
        ("awards.evaluation_job_failed", "error"),
        ("awards.evaluation_job_still_failing", "warning"),
        ("awards.evaluation_job_still_failing", "warning"),
        ("awards.evaluation_job_still_failing", "warning"),
        ("awards.evaluation_job_recovered", "info"),
    ]
    first, *retries, recovered = entries
    assert "ConnectionRefusedError" in first["reason"] and "exc_info" in first
    assert all("exc_info" not in e and "Connect call failed" in e["reason"] for e in retries)
    assert [e["attempt"] for e in retries] == [2, 3, 4]
    assert recovered["failed_attempts"] == 4
    assert recovered["failing_for_seconds"] == 4 * RETRY_SECONDS
