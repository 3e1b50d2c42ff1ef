"""RFC 9457 problem details: the one shape of every error the API answers.

Domain code raises a ``ProblemError`` subclass; the handlers here turn it, and the framework's
own errors (404, 405, validation, malformed JSON), into ``application/problem+json``.
"""

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_TYPE_BASE = "https://iqt.nhs.wales/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
# A problem names at most this many invalid fields (the first ones found).
MAX_INVALID_PARAMS = 100


class InvalidParam(BaseModel):
    name: str = Field(
        description="The field or parameter, as a dotted path (`records.3.workEmail`).",
        max_length=1000,
    )
    reason: str = Field(max_length=4000)


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "type": PROBLEM_TYPE_BASE + "validation-error",
                "title": "Request is not valid",
                "status": 422,
                "detail": "1 field is not valid.",
                "instance": "/organisations/7A4",
                "requestId": "5f0c6a3e-1c55-4a5f-9a8f-2a6f6f0b1a2c",
                "invalidParams": [{"name": "type", "reason": "Input should be 'healthBoard'"}],
            }
        },
    )

    type: str = Field(description="A stable URI naming the kind of problem.", max_length=200)
    title: str = Field(max_length=200)
    status: int = Field(ge=400, le=599)
    detail: str | None = Field(default=None, max_length=4000)
    instance: str | None = Field(default=None, max_length=4000)
    requestId: str | None = Field(default=None, max_length=200)  # noqa: N815 - the wire name
    invalidParams: list[InvalidParam] | None = Field(  # noqa: N815
        default=None, max_length=MAX_INVALID_PARAMS
    )


class ProblemError(Exception):
    """Base of every domain error: an HTTP status, a stable problem type, and a detail."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        invalid_params: Sequence[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.invalid_params = list(invalid_params or [])
        self.headers = headers or {}
        self.extensions = extensions or {}

    @property
    def type_uri(self) -> str:
        return PROBLEM_TYPE_BASE + self.slug


class BadRequest(ProblemError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorised(ProblemError):
    status, slug, title = 401, "unauthorised", "Authentication is required"


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(ProblemError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class ConcurrentChange(Conflict):
    """Another request changed the same record at the same moment, and this one stored
    nothing: sending it again unchanged, after ``Retry-After`` seconds, is safe."""

    status, slug, title = 409, "concurrent-change", "Changed by another request at the same time"
    retry_after_seconds = 1

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(self.retry_after_seconds))


class PreconditionFailed(ProblemError):
    status, slug, title = 412, "precondition-failed", "The resource has changed"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Request body is too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(ProblemError):
    status, slug, title = 422, "validation-error", "Request is not valid"


class PreconditionRequired(ProblemError):
    status, slug, title = 428, "precondition-required", "If-Match is required"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


class DatabaseUnavailable(ProblemError):
    status, slug, title = 503, "database-unavailable", "Database unavailable"


def status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
