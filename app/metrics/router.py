"""GET /metrics: Prometheus text format, for a scraper holding the scope metrics:read."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.security import SecurityScopes

from app.auth.dependencies import oauth2_scheme
from app.auth.scopes import Scope
from app.auth.tokens import InvalidToken, read_token
from app.core.database import SessionRoute
from app.core.metrics import EVENT_FEED_HOLDBACK, METRICS_MEDIA_TYPE, exposition, gauges_read_now
from app.core.openapi import problem_responses
from app.core.problems import BadRequest, Forbidden, Unauthorised
from app.events.service import feed_holdback_seconds

router = APIRouter(route_class=SessionRoute, tags=["Metrics"])

EXAMPLE = """\
# HELP iqt_http_requests_total HTTP requests answered, by method, route template and status.
# TYPE iqt_http_requests_total counter
iqt_http_requests_total{method="GET",route="/staff/{employeeNumber}",status="200"} 42.0
"""


async def metrics_reader(
    request: Request,
    security_scopes: SecurityScopes,
    authorization: Annotated[str | None, Depends(oauth2_scheme)],
) -> None:
    """Checks the bearer token from its signature alone, without the database, so that the
    metrics answer while the database is down (when they are needed most)."""
    challenge = 'Bearer realm="iqt"'
    if "access_token" in request.query_params:
        raise BadRequest(
            "Access tokens are not accepted in the query string; "
            "send them in the Authorization header.",
            invalid_params=[("access_token", "Not allowed in the URL.")],
            headers={"WWW-Authenticate": f'{challenge}, error="invalid_request"'},
        )
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorised("A bearer token is required.", headers={"WWW-Authenticate": challenge})
    try:
        claims = read_token(request.app.state.settings, token.strip())
    except InvalidToken:
        raise Unauthorised(
            "The access token is not valid or has expired.",
            headers={"WWW-Authenticate": f'{challenge}, error="invalid_token"'},
        ) from None
    request.state.client_id = claims.client_id
    missing = [s for s in security_scopes.scopes if s not in claims.scopes]
    if missing:
        raise Forbidden(
            f"This operation needs the scope {' '.join(missing)}.",
            headers={
                "WWW-Authenticate": f'{challenge}, error="insufficient_scope", '
                f'scope="{" ".join(missing)}"'
            },
        )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    dependencies=[Security(metrics_reader, scopes=[str(Scope.METRICS_READ)])],
    responses={
        200: {
            "description": "Every metric, in the Prometheus text exposition format. Labels "
            "hold route templates and enumerations, never ids or personal data.",
            "content": {
                "text/plain": {
                    "schema": {"type": "string", "maxLength": 10_000_000},
                    "example": EXAMPLE,
                }
            },
        },
        **problem_responses(400, 401, 403, 500),  # never 503: no database
    },
)
async def read_metrics(request: Request) -> Response:
    """Request counts and latencies by route template, business counters (all workers), and
    how long the event feed is held back (left out while the database does not answer)."""
    holdback = await feed_holdback_seconds(request.app.state.engine)
    read_now = [(EVENT_FEED_HOLDBACK, holdback)] if holdback is not None else []
    return Response(exposition() + gauges_read_now(read_now), media_type=METRICS_MEDIA_TYPE)
