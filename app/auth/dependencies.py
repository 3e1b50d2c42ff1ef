"""Authentication as a dependency: ``requires(Scope.X)`` states what an endpoint needs."""

from typing import Any

from fastapi import Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import basic
from app.auth.active_clients import ActiveClient
from app.auth.caller import Caller
from app.auth.scopes import SCOPE_DESCRIPTIONS, Scope
from app.auth.tokens import InvalidToken, read_token
from app.core.database import SessionDep
from app.core.problems import BadRequest, Forbidden, Unauthorised
from app.ratelimits.service import enforce_rate_limit

_FLOWS = OAuthFlows(
    clientCredentials=OAuthFlowClientCredentials(
        tokenUrl="/oauth2/token",
        scopes={str(k): v for k, v in SCOPE_DESCRIPTIONS.items()},
    )
)
_SCHEME_NAME = "oauth2"
_DESCRIPTION = (
    "OAuth2 client credentials (RFC 6749 §4.4). Tokens are short-lived JWTs (15 minutes by "
    "default) following RFC8725: one algorithm (HS256) accepted, issuer, audience and expiry "
    "checked on every use; a client asks for a new token rather than refreshing one."
)
# The Authorization header alone, for a route that checks the token itself (/metrics).
oauth2_scheme = OAuth2(
    flows=_FLOWS, scheme_name=_SCHEME_NAME, description=_DESCRIPTION, auto_error=False
)


# Where HTTP Basic with the client id and secret is accepted beside Bearer tokens: the xAPI
# resources, as LRS clients are configured with a key and a secret.
BASIC_PATHS = ("/xapi/",)


def _unauthorised(detail: str, error: str = "invalid_token") -> Unauthorised:
    return Unauthorised(
        detail,
        headers={
            "WWW-Authenticate": f'Bearer realm="iqt", error="{error}", error_description="{detail}"'
        },
    )


class Authenticator(OAuth2):
    """The OAuth2 client-credentials scheme as the dependency that authenticates: FastAPI
    documents it as ``oauth2_scheme`` (same name, flows and scopes) and solves one dependency
    per request for reading the Authorization header and checking it, not two."""

    async def __call__(  # type: ignore[override]
        self, request: Request, security_scopes: SecurityScopes, session: SessionDep
    ) -> Caller:
        return await authenticate(
            request, security_scopes, session, request.headers.get("Authorization")
        )


authenticator = Authenticator(
    flows=_FLOWS, scheme_name=_SCHEME_NAME, description=_DESCRIPTION, auto_error=False
)


async def authenticate(
    request: Request,
    security_scopes: SecurityScopes,
    session: AsyncSession,
    authorization: str | None,
) -> Caller:
    """The caller of a request with this Authorization header, counted against its rate
    limit; 400, 401 or 403 (with its challenge) when it may not call for these scopes."""
    # Parsed only when there is one (most writes have none); any spelling of the name counts.
    if request.scope.get("query_string") and "access_token" in request.query_params:
        raise BadRequest(
            "Access tokens are not accepted in the query string; "
            "send them in the Authorization header.",
            invalid_params=[("access_token", "Not allowed in the URL.")],
            headers={"WWW-Authenticate": 'Bearer realm="iqt", error="invalid_request"'},
        )
    if not authorization:
        raise Unauthorised(
            "A bearer token is required.", headers={"WWW-Authenticate": 'Bearer realm="iqt"'}
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "basic" and request.url.path.startswith(BASIC_PATHS):
        client, granted = await _basic_client(request, session, token)
    else:
        client, granted = await _bearer_client(request, session, scheme, token)
    await enforce_rate_limit(request, client)
    request.state.client_id = client.client_id
    caller = Caller(
        client_id=client.client_id,
        scopes=granted,
        organisations=client.organisations,
        request_id=request.state.request_id,
    )
    # Set before the scope check, so that a refused write is audited with its client.
    request.state.caller = caller
    missing = [s for s in security_scopes.scopes if s not in granted]
    if missing:
        raise Forbidden(
            f"This operation needs the scope {' '.join(missing)}.",
            headers={
                "WWW-Authenticate": f'Bearer realm="iqt", error="insufficient_scope", '
                f'scope="{" ".join(security_scopes.scopes)}"'
            },
        )
    return caller


async def _bearer_client(
    request: Request, session: AsyncSession, scheme: str, token: str
) -> tuple[ActiveClient, frozenset[str]]:
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorised("The Authorization header must be 'Bearer <token>'.", "invalid_request")
    settings = request.app.state.settings
    try:
        claims = read_token(settings, token.strip())
    except InvalidToken:
        raise _unauthorised("The access token is not valid or has expired.") from None
    client: ActiveClient | None = await request.app.state.clients.lookup(session, claims.client_id)
    if client is None:
        raise _unauthorised("The client of this token is revoked or unknown.")
    return client, frozenset(claims.scopes & client.scopes)


async def _basic_client(
    request: Request, session: AsyncSession, encoded: str
) -> tuple[ActiveClient, frozenset[str]]:
    """HTTP Basic with the client id and secret: every scope the client holds."""
    credentials = basic.credentials_of(encoded)
    settings = request.app.state.settings
    client = (
        await basic.client_with_secret(session, settings, *credentials) if credentials else None
    )
    if client is None:
        raise Unauthorised(
            "The client id and secret are not valid.",
            headers={"WWW-Authenticate": 'Basic realm="iqt"'},
        )
    return client, client.scopes


def requires(*scopes: Scope) -> Any:
    """The dependency for an endpoint that needs all of these scopes."""
    return Security(authenticator, scopes=[str(s) for s in scopes])


__all__ = ["Caller", "authenticate", "requires"]
