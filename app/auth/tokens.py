"""Signed, short-lived access tokens (JWT, HS256) carrying client id, scopes, organisations."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

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


def read_token(settings: Settings, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            settings.token_signing_key,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            leeway=5,
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    organisations = claims.get("organisations")
    return TokenClaims(
        client_id=str(claims["sub"]),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        organisations=frozenset(organisations) if organisations is not None else None,
    )
