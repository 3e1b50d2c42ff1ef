from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.requests import HTTPConnection

from app.auth import service
from app.auth.schemas import TokenResponse
from app.auth.service import OAuthError
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import problem_responses
from app.core.schemas import Text, text_problem
from app.ratelimits.service import enforce_token_rate_limit

router = APIRouter(route_class=SessionRoute, tags=["Authentication"])


class ClientBasicAuth(HTTPBasic):
    """HTTP Basic client authentication; a malformed header is an RFC 6749 ``invalid_client``."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        try:
            return await super().__call__(request)
        except HTTPException:
            raise OAuthError(401, "invalid_client", "Client authentication failed.") from None


basic_auth = ClientBasicAuth(
    scheme_name="HTTPBasic",
    auto_error=False,
    description="Client id and secret (RFC 6749 §2.3.1).",
)


@router.post(
    "/oauth2/token",
    summary="Issue an access token (client credentials)",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 413, 422, 429, 500, 503),
)
async def issue_access_token(
    request: Request,
    response: Response,
    session: SessionDep,
    basic: Annotated[HTTPBasicCredentials | None, Depends(basic_auth)],
    grant_type: Annotated[
        Text | None, Form(max_length=100, examples=["client_credentials"])
    ] = None,
    client_id: Annotated[Text | None, Form(max_length=100)] = None,
    client_secret: Annotated[Text | None, Form(max_length=200)] = None,
    scope: Annotated[
        Text | None, Form(max_length=1000, description="Space-separated scopes; default all.")
    ] = None,
) -> TokenResponse:
    """OAuth2 client credentials grant (RFC 6749 §4.4): form body, id and secret in the form or
    HTTP Basic. Errors carry the RFC 6749 `error` and `error_description` members."""
    if grant_type != "client_credentials":
        raise OAuthError(
            400,
            "unsupported_grant_type" if grant_type else "invalid_request",
            "grant_type must be client_credentials.",
        )
    if basic is not None:
        client_id, client_secret = basic.username, basic.password
    if not client_id or not client_secret or text_problem([client_id, client_secret]):
        raise OAuthError(401, "invalid_client", "Client authentication failed.")
    await enforce_token_rate_limit(request, client_id)
    issued = await service.grant_client_credentials(
        session, request.app.state.settings, client_id, client_secret, scope
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )
