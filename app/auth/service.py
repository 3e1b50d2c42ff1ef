"""API clients: creation, listing, revocation, and the client-credentials grant."""

import asyncio
import re
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.active_clients import announce_revocation
from app.auth.scopes import ALL_SCOPES
from app.auth.tokens import issue_token
from app.core.clock import utcnow
from app.core.problems import NotFound, ProblemError, ValidationFailed
from app.core.quotas import parse_quota
from app.core.settings import Settings
from app.models import ApiClient

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


class OAuthError(ProblemError):
    """An RFC 6749 §5.2 error; the body carries ``error`` and ``error_description`` too."""

    def __init__(self, status: int, error: str, description: str) -> None:
        headers = {"WWW-Authenticate": 'Basic realm="iqt"'} if status == 401 else None
        super().__init__(
            description,
            headers=headers,
            extensions={"error": error, "error_description": description},
        )
        self.status = status
        self.slug = "oauth-" + error.replace("_", "-")
        self.title = "Token request refused"


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str


@dataclass(frozen=True)
class RotatedSecret:
    client_id: str
    client_secret: str
    # The replaced secret works until then; None: it stopped working at once.
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


def _hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, settings.secret_hash_profile))


async def create_client(
    session: AsyncSession,
    settings: Settings,
    name: str,
    scopes: Sequence[str],
    organisations: Sequence[str] | None,
    *,
    xapi_account_home_page: str | None = None,
    rate_limit: str | None = None,
) -> NewClient:
    unknown = sorted(set(scopes) - ALL_SCOPES)
    if unknown:
        raise ValidationFailed(
            f"Unknown scopes: {', '.join(unknown)}.",
            invalid_params=[("scopes", f"Unknown scope {s}.") for s in unknown],
        )
    if not name.strip():
        raise ValidationFailed("A client needs a name.", invalid_params=[("name", "Empty.")])
    if xapi_account_home_page is not None and not _IRI.match(xapi_account_home_page):
        raise ValidationFailed(
            "The xAPI account homePage is an IRI.",
            invalid_params=[("xapiAccountHomePage", "Not an IRI, e.g. https://learning.example.")],
        )
    if rate_limit is not None:
        try:
            parse_quota("client", rate_limit)
        except ValueError:
            raise ValidationFailed(
                "The rate limit is a number of requests per period.",
                invalid_params=[("rateLimit", "Not a rate limit, e.g. 5000/minute.")],
            ) from None
    client_id = "iqt_" + secrets.token_hex(10)
    client_secret = secrets.token_urlsafe(32)
    session.add(
        ApiClient(
            client_id=client_id,
            name=name.strip(),
            secret_hash=_hasher(settings).hash(client_secret),
            scopes=sorted(set(scopes)),
            organisations=sorted(set(organisations)) if organisations is not None else None,
            xapi_account_home_page=xapi_account_home_page,
            rate_limit=rate_limit,
        )
    )
    await session.flush()
    return NewClient(client_id=client_id, client_secret=client_secret)


async def list_clients(session: AsyncSession) -> Sequence[ApiClient]:
    return await repository.list_clients(session)


async def revoke_client(session: AsyncSession, client_id: str) -> ApiClient:
    client = await repository.get_client(session, client_id)
    if client is None:
        raise NotFound(f"No client {client_id}.")
    if client.revoked_at is None:
        client.revoked_at = datetime.now(UTC)
        await session.flush()
        await announce_revocation(session, client_id)
    return client


async def rotate_client_secret(
    session: AsyncSession, settings: Settings, client_id: str, overlap: timedelta
) -> RotatedSecret:
    """Gives the client a new secret; the one it replaces keeps working for ``overlap``, so the
    system holding it can change over without an outage. A secret replaced earlier stops."""
    client = await repository.get_active_client(session, client_id)
    if client is None:
        raise NotFound(f"No active client {client_id}.")
    client_secret = secrets.token_urlsafe(32)
    expires = utcnow() + overlap if overlap > timedelta(0) else None
    client.previous_secret_hash = client.secret_hash if expires is not None else None
    client.previous_secret_expires_at = expires
    client.secret_hash = _hasher(settings).hash(client_secret)
    await session.flush()
    return RotatedSecret(client_id, client_secret, expires)


async def grant_client_credentials(
    session: AsyncSession,
    settings: Settings,
    client_id: str,
    client_secret: str,
    requested_scope: str | None,
) -> IssuedToken:
    """RFC 6749 §4.4: a token for the client, with the requested scopes (default: all)."""
    client = await authenticate_client(session, settings, client_id, client_secret)
    if client is None:
        raise OAuthError(401, "invalid_client", "Client authentication failed.")
    requested = requested_scope.split() if requested_scope else list(client.scopes)
    not_granted = sorted(set(requested) - set(client.scopes))
    if not_granted:
        raise OAuthError(400, "invalid_scope", f"The client may not have: {' '.join(not_granted)}.")
    scopes = sorted(set(requested))
    token = issue_token(settings, client.client_id, scopes, client.organisations)
    return IssuedToken(
        access_token=token, expires_in=settings.token_lifetime_seconds, scope=" ".join(scopes)
    )


# argon2 takes tens of milliseconds of CPU and memory per check (it releases the GIL): run in
# a few worker threads of their own, so token requests never hold up the event loop, nor take
# the threads other blocking work needs, nor more memory than these few checks at once. An
# executor, unlike a limiter, belongs to no event loop.
SECRET_CHECKS_AT_ONCE = 2
_secret_checks = ThreadPoolExecutor(SECRET_CHECKS_AT_ONCE, thread_name_prefix="secret-check")


async def verify_secret(settings: Settings, secret_hash: str, secret: str) -> bool:
    """Whether the secret matches the hash, checked in a bounded pool of worker threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _secret_checks, _secret_matches, settings, secret_hash, secret
    )


async def authenticate_client(
    session: AsyncSession, settings: Settings, client_id: str, secret: str
) -> ApiClient | None:
    """The active client whose id and secret these are, else None. The one check of a client
    secret (token requests and HTTP Basic alike): an unknown id costs the same check as a known
    one, so timing does not tell them apart."""
    client = await repository.get_active_client(session, client_id)
    if client is None:
        await verify_secret(settings, _dummy_hash(settings), secret)
        return None
    return client if await _authenticates(settings, client, secret) else None


async def _authenticates(settings: Settings, client: ApiClient, secret: str) -> bool:
    """The client's secret, or the one its last rotation replaced while that still works."""
    if await verify_secret(settings, client.secret_hash, secret):
        return True
    previous, expires = client.previous_secret_hash, client.previous_secret_expires_at
    return (
        previous is not None
        and expires is not None
        and utcnow() < expires
        and await verify_secret(settings, previous, secret)
    )


def _secret_matches(settings: Settings, secret_hash: str, secret: str) -> bool:
    try:
        return _hasher(settings).verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


_dummy_hashes: dict[str, str] = {}


def _dummy_hash(settings: Settings) -> str:
    """A hash of a random secret with the configured parameters, made once per profile."""
    profile = settings.secret_hash_profile
    if profile not in _dummy_hashes:
        _dummy_hashes[profile] = _hasher(settings).hash(secrets.token_urlsafe(32))
    return _dummy_hashes[profile]
