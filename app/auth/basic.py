"""HTTP Basic with a client's id and secret: what xAPI clients (LRS clients) send.

The secret is checked as a token request checks it (``authenticate_client``: off the event
loop, unknown ids as known ones, a rotated secret during its overlap). A pair checked once is
remembered (by the stored hashes and a digest of the secret) so that a platform posting
statements all day does not pay for Argon2 on every request; the client row is read every
time, so a revoked client, or one given a new secret, is refused at once.
"""

import base64
import binascii
import hashlib
from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.active_clients import ActiveClient
from app.auth.service import authenticate_client
from app.core.settings import Settings
from app.models import ApiClient

_REMEMBERED = 1024
_checked: OrderedDict[tuple[str, str], None] = OrderedDict()


def credentials_of(encoded: str) -> tuple[str, str] | None:
    """(client id, secret) of a Basic credentials string; None when it is not one."""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    return (client_id, secret) if colon and client_id and secret else None


async def client_with_secret(
    session: AsyncSession, settings: Settings, client_id: str, secret: str
) -> ActiveClient | None:
    """The active client when the secret is its secret, else None."""
    digest = hashlib.sha256(secret.encode()).hexdigest()
    row: ApiClient | None = await repository.get_active_client(session, client_id)
    if row is not None and (row.secret_hash, digest) in _checked:
        _checked.move_to_end((row.secret_hash, digest))
    else:
        row = await authenticate_client(session, settings, client_id, secret)
        if row is None:
            return None
        # Remembered only with no rotation under way: the secret may be the previous one,
        # which stops working when the overlap ends.
        if row.previous_secret_hash is None:
            _checked[(row.secret_hash, digest)] = None
            if len(_checked) > _REMEMBERED:
                _checked.popitem(last=False)
    return ActiveClient(
        client_id=row.client_id,
        scopes=frozenset(row.scopes),
        organisations=frozenset(row.organisations) if row.organisations is not None else None,
        rate_limit=row.rate_limit,
    )
