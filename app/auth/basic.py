"""HTTP Basic with a client's id and secret: what xAPI clients (LRS clients) send.

The secret is checked with Argon2 off the event loop; a pair checked once is remembered (by
the stored hash and a digest of the secret) so that a platform posting statements all day does
not pay for Argon2 on every request. The client row is read every time: a revoked client, or
one given a new secret, is refused at once.
"""

import base64
import binascii
import hashlib
from collections import OrderedDict

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.active_clients import ActiveClient

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
    session: AsyncSession, client_id: str, secret: str
) -> ActiveClient | None:
    """The active client when the secret is its secret, else None."""
    row = await repository.get_active_client(session, client_id)
    if row is None:
        return None
    pair = (row.secret_hash, hashlib.sha256(secret.encode()).hexdigest())
    if pair in _checked:
        _checked.move_to_end(pair)
    elif await anyio.to_thread.run_sync(_secret_matches, row.secret_hash, secret):
        _checked[pair] = None
        if len(_checked) > _REMEMBERED:
            _checked.popitem(last=False)
    else:
        return None
    return ActiveClient(
        client_id=row.client_id,
        scopes=frozenset(row.scopes),
        organisations=frozenset(row.organisations) if row.organisations is not None else None,
        rate_limit=row.rate_limit,
    )


def _secret_matches(secret_hash: str, secret: str) -> bool:
    try:
        return PasswordHasher().verify(secret_hash, secret)  # parameters come from the hash
    except (VerificationError, InvalidHashError):
        return False
