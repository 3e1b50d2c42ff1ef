"""``credentialRevoked`` events for the revoked awards that were issued as credentials.

Revoking an award revokes its credential: the status lists read the award's status, so the
only thing to write is the event, in the transaction of the revocation. Awards call this with
their ``awardRevoked`` events (resource id = award id), wherever they revoke.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.bulk import column_in
from app.models import IssuedCredential


async def credential_revoked_events(
    session: AsyncSession, award_revoked: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    if not award_revoked:
        return []
    ids = [int(event["resource_id"]) for event in award_revoked]
    rows = await session.execute(
        select(IssuedCredential.award_id, IssuedCredential.credential_uuid).where(
            column_in(session, IssuedCredential.award_id, ids)
        )
    )
    issued = {award_id: credential_uuid for award_id, credential_uuid in rows}
    return [
        {
            **event,
            "type": "credentialRevoked",
            "data": {
                "employeeNumber": event["data"]["employeeNumber"],
                "level": event["data"]["level"],
                "credentialId": f"urn:uuid:{issued[int(event['resource_id'])]}",
                "reason": event["data"]["reason"],
            },
        }
        for event in award_revoked
        if int(event["resource_id"]) in issued
    ]
