"""Turn every error, the framework's own included, into ``application/problem+json``."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.core.database_faults import DATABASE_ERRORS, RETRY_AFTER_SECONDS, is_database_unavailable
from app.core.problems import (
    MAX_INVALID_PARAMS,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPE_BASE,
    BadRequest,
    DatabaseUnavailable,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    Unauthorised,
    UnsupportedMediaType,
    status_title,
)

# The framework's own errors get the type and title of the domain error with the same status,
# so that one problem type always has one title.
_HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    error.status: (error.slug, error.title)
    for error in (
        BadRequest,
        Unauthorised,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        PayloadTooLarge,
        UnsupportedMediaType,
    )
}
_HTTP_PROBLEMS[406] = ("not-acceptable", status_title(406))
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_LOCATION_PREFIXES = {"body", "query", "path", "header", "cookie"}


def problem_response(
    request: Request | None,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    invalid_params: list[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["requestId"] = request_id
    if invalid_params:
        body["invalidParams"] = [
            {"name": n, "reason": r} for n, r in invalid_params[:MAX_INVALID_PARAMS]
        ]
    if extensions:
        body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def error_location(loc: tuple[int | str, ...] | list[int | str]) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATION_PREFIXES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        invalid_params=exc.invalid_params,
        headers=exc.headers,
        extensions=exc.extensions,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else None
    if status == 404 and detail == "Not Found":
        detail = f"No resource at {request.url.path}."
    headers = dict(exc.headers) if exc.headers else {}
    if status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}."
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    slug, title = _HTTP_PROBLEMS.get(status, ("http-error", status_title(status)))
    return problem_response(
        request,
        status=status,
        slug=slug,
        title=title,
        detail=detail,
        headers=headers or None,
    )


def _allowed_methods(request: Request) -> str:
    """Every method some route answers on this path (the router names only one route's)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    malformed = [e for e in errors if e.get("type") == "json_invalid"]
    if malformed:
        return problem_response(
            request,
            status=400,
            slug="malformed-body",
            title="Request body is not valid JSON",
            detail=str(malformed[0].get("ctx", {}).get("error", "The body could not be parsed.")),
        )
    params = [(error_location(e["loc"]), _reason(e)) for e in errors]
    count = len(params)
    return problem_response(
        request,
        status=422,
        slug="validation-error",
        title="Request is not valid",
        detail=f"{count} field{'s are' if count != 1 else ' is'} not valid.",
        invalid_params=params,
    )


def _reason(error: Any) -> str:
    if error.get("type") == "extra_forbidden":
        return "Unknown field."
    if error.get("type") == "missing":
        return "Field required."
    return str(error.get("msg", "Not valid."))


DATABASE_UNAVAILABLE_DETAIL = (
    "The database cannot be reached just now. Retry after the number of seconds in "
    "Retry-After. A write that answered this was stored whole or not at all, but may have been "
    "stored: send a PUT, a batch or a completion (same externalId or Idempotency-Key) again "
    "unchanged, which never stores it twice; read other writes back before repeating them."
)


def database_unavailable(detail: str = DATABASE_UNAVAILABLE_DETAIL) -> DatabaseUnavailable:
    return DatabaseUnavailable(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """A database that is down or restarting is a 503 to retry; any other database error is
    a bug, left to the 500 of the request middleware."""
    if not is_database_unavailable(exc):
        raise exc
    request.app.state.logger.warning(
        "database.unavailable", error=type(exc).__name__, path=request.url.path
    )
    return await _problem_error(request, database_unavailable())


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _problem_error)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _database_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
