"""The ``Idempotency-Key`` request header (IETF draft-ietf-httpapi-idempotency-key-header).

The first request with a key stores its answer with the change it made, in the same
transaction; a retry with the same key and payload gets that answer again (status and body),
without doing anything twice. The same key with another payload is refused (422); a retry
while the first request is still being processed is refused (409) on PostgreSQL, where
requests run side by side (SQLite runs writers one at a time, so a retry waits and replays).
A key is remembered for 24 hours.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.problems import BadRequest, Conflict, ValidationFailed
from app.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_COLUMNS = ("client_id", "key")
KEY_LIFETIME = timedelta(hours=24)
_LOCK_CLASS = 0x49515402
# An RFC 8941 sf-string ("...") as the draft says, or the same characters unquoted.
_KEY = re.compile(r'^"?([\x20\x21\x23-\x5b\x5d-\x7e]{1,255})"?$')


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: dict[str, Any]
    location: str | None


def parse_key(raw: str) -> str:
    match = _KEY.match(raw.strip())
    if match is None or not match.group(1).strip():
        raise BadRequest(
            f"{HEADER} must be a string of 1 to 255 printable ASCII characters.",
            invalid_params=[(HEADER, 'Send a unique value such as "8e03978e-40d5-43e8-bc93".')],
        )
    return match.group(1)


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


async def recall(
    session: AsyncSession, client_id: str, key: str, request_fingerprint: str
) -> StoredAnswer | None:
    """The answer stored for this key, or None when the request is to be processed now."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"{client_id}\0{key}".encode(), digest_size=4).digest()
        lock_id = int.from_bytes(digest, "big", signed=True)
        if not await session.scalar(select(func.pg_try_advisory_xact_lock(_LOCK_CLASS, lock_id))):
            raise Conflict(
                f"A request with this {HEADER} is still being processed; retry shortly.",
                headers={"Retry-After": "1"},
            )
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.client_id == client_id, IdempotencyRecord.key == key
        )
    )
    if record is None or record.created_at < utcnow() - KEY_LIFETIME:
        return None
    if record.request_fingerprint != request_fingerprint:
        raise ValidationFailed(
            f"This {HEADER} was used for a different request: use a new key for new content.",
            invalid_params=[(HEADER, "Already used with a different payload.")],
        )
    return StoredAnswer(record.response_status, record.response_body, record.response_location)


async def remember(
    session: AsyncSession,
    client_id: str,
    key: str,
    request_fingerprint: str,
    answer: StoredAnswer,
) -> None:
    """Stores the answer (replacing an expired one), in the transaction of the change."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "client_id": client_id,
        "key": key,
        "request_fingerprint": request_fingerprint,
        "response_status": answer.status,
        "response_body": answer.body,
        "response_location": answer.location,
        "created_at": utcnow(),
    }
    statement = dialect.insert(IdempotencyRecord).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["client_id", "key"],
            set_={name: statement.excluded[name] for name in values if name not in KEY_COLUMNS},
        )
    )
