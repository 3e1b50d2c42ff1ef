"""The event feed (outbox): written with the change, read in commit-safe order."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.auth.caller import Caller
from app.core.bulk import insert_rows
from app.core.logging import get_logger
from app.core.problems import BadRequest
from app.events import repository
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


async def record_event(
    session: AsyncSession,
    event_type: str,
    *,
    resource_type: str,
    resource_id: str,
    organisation: str | None,
    data: dict[str, Any],
    caller: Caller | None,
) -> None:
    """Writes one event in the current transaction."""
    await record_events(
        session,
        [
            {
                "type": event_type,
                "resource_type": resource_type,
                "resource_id": resource_id,
                "organisation_ods_code": organisation,
                "data": data,
            }
        ],
        caller=caller,
    )


async def record_events(
    session: AsyncSession, events: Sequence[dict[str, Any]], *, caller: Caller | None
) -> None:
    """Writes many events with one statement (batches)."""
    if not events:
        return
    transaction_id = repository.current_transaction_id(session)
    client_id = caller.client_id if caller else None
    occurred_at = utcnow()  # the events of one change happen together
    rows = [{**e, "client_id": client_id, "occurred_at": occurred_at} for e in events]
    for row in rows:
        assert row["type"] in EVENT_TYPES, row["type"]
    await insert_rows(session, Event.__table__, rows, constants={"transaction_id": transaction_id})


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
