"""Signed, short-lived access tokens (JWT, HS256) carrying client id, scopes, organisations."""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from cachetools import LRUCache

from app.core.settings import Settings

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
    return jwt.encode(claims, settings.token_signing_key, algorithm=ALGORITHM)


# Tokens whose signature and claims were checked, by (token, key, audience, issuer): a client
# sends the same token for up to an hour, and checking the signature again each time is most of
# what authentication costs. Only the validity period is checked on every use.
_checked: LRUCache[tuple[str, str, str, str], tuple[TokenClaims, float, float]] = LRUCache(4096)
LEEWAY_SECONDS = 5


def read_token(settings: Settings, token: str, *, now: float | None = None) -> TokenClaims:
    key = (token, settings.token_signing_key, settings.token_audience, settings.token_issuer)
    checked = _checked.get(key)
    if checked is None:
        checked = _check(settings, token)
        _checked[key] = checked
    claims, not_before, expires = checked
    moment = time.time() if now is None else now
    if not not_before - LEEWAY_SECONDS <= moment <= expires + LEEWAY_SECONDS:
        raise InvalidToken("The token is not valid at this time.")
    return claims


def _check(settings: Settings, token: str) -> tuple[TokenClaims, float, float]:
    try:
        claims = jwt.decode(
            token,
            settings.token_signing_key,
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
    return read, float(claims.get("nbf", claims["iat"])), float(claims["exp"])
