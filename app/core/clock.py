"""The service's notion of now and today (UK dates: NHS Wales works on Europe/London days)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return datetime.now(UK).date()
