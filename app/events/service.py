"""The event feed (outbox): written with the change, read in commit-safe order."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.auth.caller import Caller
from app.core.bulk import insert_columns
from app.core.logging import get_logger
from app.core.problems import BadRequest
from app.events import repository
from app.events.domain import FeedEvent, payload
from app.models import Event
from app.models.base import utcnow

EVENT_TYPES = (
    "organisationChanged",
    "staffCreated",
    "staffUpdated",
    "staffEndDated",
    "completionRecorded",
    "completionMatched",
    "completionRetracted",
    "projectCreated",
    "projectSubmitted",
    "projectReviewed",
    "projectApproved",
    "projectReturned",
    "projectWithdrawn",
    "awardGranted",
    "awardRevoked",
    "awardRedated",
    "credentialIssued",
    "credentialRevoked",
    "personalDataExported",
    "erasureRequested",
    "staffPseudonymised",
)


_MAX_BIGINT = 2**63 - 1
# /metrics answers while the database is down: the hold-back is left out if it takes longer.
HOLDBACK_TIMEOUT_SECONDS = 1.0

log = get_logger("iqt.events")


@dataclass(frozen=True)
class FeedPosition:
    transaction_id: int
    event_id: int

    def token(self) -> str:
        return f"{self.transaction_id}-{self.event_id}"

    @classmethod
    def parse(cls, token: str) -> "FeedPosition":
        head, sep, tail = token.partition("-")
        if (
            not sep
            or not (head.isascii() and head.isdigit() and tail.isascii() and tail.isdigit())
            or max(int(head), int(tail)) > _MAX_BIGINT
        ):
            raise BadRequest(
                "after is not a cursor this feed issued.",
                invalid_params=[("after", "Use the cursor of the last event you processed.")],
            )
        return cls(int(head), int(tail))


def feed_columns(events: Sequence[FeedEvent], caller: Caller | None) -> dict[str, list[Any]]:
    """The event-feed rows of typed events, column by column (each column's values in the
    events' order): the one place a feed row is made."""
    for event in events:
        assert event.feed_type in EVENT_TYPES, event.feed_type
    client_id = caller.client_id if caller else None
    occurred_at = utcnow()  # the events of one change happen together
    return {
        "type": [event.feed_type for event in events],
        "resource_type": [event.resource_type for event in events],
        "resource_id": [event.resource_id for event in events],
        "organisation_ods_code": [event.organisation for event in events],
        "data": [payload(event) for event in events],
        "client_id": [client_id] * len(events),
        "occurred_at": [occurred_at] * len(events),
    }


async def record_feed_events(
    session: AsyncSession, events: Sequence[FeedEvent], caller: Caller | None
) -> None:
    """Writes the events to the feed in the current transaction, with one statement."""
    if not events:
        return
    transaction_id = repository.current_transaction_id(session)
    await insert_columns(
        session,
        Event.__table__,
        feed_columns(events, caller),
        constants={"transaction_id": transaction_id},
    )


async def read_feed(
    session: AsyncSession,
    caller: Caller,
    after: FeedPosition | None,
    types: Sequence[str],
    limit: int,
) -> list[Event]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise BadRequest(
            f"Unknown event types: {', '.join(unknown)}.",
            invalid_params=[("types", f"Unknown event type {t}.") for t in unknown],
        )
    return await repository.read_feed(
        session,
        after=(after.transaction_id, after.event_id) if after else None,
        types=types,
        organisations=caller.organisations,
        client_id=caller.client_id,
        limit=limit,
    )


async def feed_holdback_seconds(engine: AsyncEngine) -> float | None:
    """The feed's current hold-back (see ``repository.feed_holdback_seconds``); None when the
    database does not answer within HOLDBACK_TIMEOUT_SECONDS."""
    try:
        async with asyncio.timeout(HOLDBACK_TIMEOUT_SECONDS), engine.connect() as connection:
            return await repository.feed_holdback_seconds(connection)
    except Exception as exc:  # TimeoutError too: the metrics answer without it
        log.debug("events.holdback_unavailable", error=type(exc).__name__)
        return None
