"""Signed, short-lived access tokens (JWT, HS256) carrying client id, scopes, organisations.

Each token names the key that signed it in its header (``kid``). The service holds several keys
while one is being rotated out (IQT_TOKEN_SIGNING_KEYS): the first signs, and every key verifies
the tokens that name it, so rotating the key logs no client out. A token naming a key the
service does not hold is refused; one naming no key (issued before keys had ids) is checked
against the signing key.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from cachetools import LRUCache

from app.core.settings import Settings, SigningKey

ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    client_id: str
    scopes: frozenset[str]
    organisations: frozenset[str] | None


class InvalidToken(Exception):
    """The token is missing, expired, tampered with, or not meant for this service."""


def issue_token(
    settings: Settings,
    client_id: str,
    scopes: list[str],
    organisations: list[str] | None,
    now: datetime | None = None,
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": client_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + timedelta(seconds=settings.token_lifetime_seconds),
        "jti": str(uuid.uuid4()),
        "scope": " ".join(scopes),
        "organisations": organisations,
    }
    signing = settings.token_keys[0]
    return jwt.encode(claims, signing.secret, algorithm=ALGORITHM, headers={"kid": signing.kid})


@dataclass(frozen=True)
class _Checked:
    claims: TokenClaims
    not_before: float
    expires: float
    key: SigningKey


# Tokens whose signature and claims were checked, by (token, audience, issuer): a client sends
# the same token for up to an hour, and checking the signature again each time is most of what
# authentication costs. On every use the validity period is checked, and that the key which
# verified the token is still held and not past its verifyUntil.
_checked: LRUCache[tuple[str, str, str], _Checked] = LRUCache(4096)
LEEWAY_SECONDS = 5


def read_token(settings: Settings, token: str, *, now: float | None = None) -> TokenClaims:
    keys = settings.token_keys
    cache_key = (token, settings.token_audience, settings.token_issuer)
    checked = _checked.get(cache_key)
    if checked is None or checked.key not in keys:
        checked = _check(settings, keys, token)
        _checked[cache_key] = checked
    moment = time.time() if now is None else now
    if not checked.not_before - LEEWAY_SECONDS <= moment <= checked.expires + LEEWAY_SECONDS:
        raise InvalidToken("The token is not valid at this time.")
    retired = checked.key.verify_until
    if retired is not None and moment > retired.timestamp():
        raise InvalidToken("The key that signed the token has been retired.")
    return checked.claims


def _verifying_key(keys: tuple[SigningKey, ...], token: str) -> SigningKey:
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if kid is None:
        return keys[0]
    for key in keys:
        if key.kid == kid:
            return key
    raise InvalidToken("The token was signed with a key this service does not hold.")


def _check(settings: Settings, keys: tuple[SigningKey, ...], token: str) -> _Checked:
    key = _verifying_key(keys, token)
    try:
        claims = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    organisations = claims.get("organisations")
    read = TokenClaims(
        client_id=str(claims["sub"]),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        organisations=frozenset(organisations) if organisations is not None else None,
    )
    return _Checked(read, float(claims.get("nbf", claims["iat"])), float(claims["exp"]), key)
