"""The service's notion of now and today (UK dates: NHS Wales works on Europe/London days)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return datetime.now(UK).date()


# Clocks disagree: what a client says happened up to this far in the future is accepted
# (IQT_CLOCK_SKEW_SECONDS; set when the app is created).
_clock_skew = timedelta(minutes=5)


def set_clock_skew(seconds: float) -> None:
    global _clock_skew
    _clock_skew = timedelta(seconds=seconds)


def clock_skew() -> timedelta:
    return _clock_skew
