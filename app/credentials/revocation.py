"""Revoking an award revokes its credential: the handler of awards revoked.

The status lists read the award's status, so the only thing to write is the
``credentialRevoked`` event of each revoked award that was issued as a credential, in the
transaction of the revocation (registered in ``app/bootstrap.py``).
"""

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.bulk import column_in
from app.credentials.events import CredentialRevoked
from app.events.bus import publish
from app.models import IssuedCredential


class RevokedAward(Protocol):
    """An award revocation, as the awards domain announces it."""

    @property
    def award_id(self) -> int: ...
    @property
    def organisation(self) -> str | None: ...
    @property
    def employee_number(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def reason(self) -> str: ...


async def revoke_credentials(
    session: AsyncSession, revoked: Sequence[RevokedAward], caller: Caller | None
) -> None:
    ids = [award.award_id for award in revoked]
    rows = await session.execute(
        select(IssuedCredential.award_id, IssuedCredential.credential_uuid).where(
            column_in(session, IssuedCredential.award_id, ids)
        )
    )
    issued = {award_id: credential_uuid for award_id, credential_uuid in rows}
    events = [
        CredentialRevoked(
            award_id=award.award_id,
            organisation=award.organisation,
            employee_number=award.employee_number,
            level=award.level,
            credential_id=f"urn:uuid:{issued[award.award_id]}",
            reason=award.reason,
        )
        for award in revoked
        if award.award_id in issued
    ]
    await publish(session, events, caller=caller)
