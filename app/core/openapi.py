"""OpenAPI helpers: clean operation ids and documented problem responses."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.core.openapi_examples import complete_examples
from app.core.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE, InvalidParam, Problem

_PROBLEMS: dict[int, tuple[str, str, str, str]] = {
    400: (
        "Bad request (malformed JSON, bad paging token or query).",
        "bad-request",
        "Bad request",
        "pageToken is not valid: use the href of a `next` link unchanged.",
    ),
    401: (
        "Missing, expired or invalid access token.",
        "unauthorised",
        "Authentication is required",
        "The access token is not valid or has expired.",
    ),
    403: (
        "The token lacks a scope this operation needs.",
        "forbidden",
        "Not allowed",
        "This operation needs the scope organisations:write.",
    ),
    404: (
        "No such resource, or not visible to this client.",
        "not-found",
        "Not found",
        "No organisation 7Z9.",
    ),
    409: (
        "Conflicts with the current state of the resource.",
        "conflict",
        "Conflict with the current state",
        "The request conflicts with the stored resource.",
    ),
    412: (
        "If-Match does not match the current ETag.",
        "precondition-failed",
        "The resource has changed",
        'If-Match "3" does not match the current ETag "4".',
    ),
    413: (
        "Request body over the size limit.",
        "payload-too-large",
        "Request body is too large",
        "The request body is larger than 10485760 bytes.",
    ),
    405: (
        "The method is not one this resource takes.",
        "method-not-allowed",
        "Method not allowed",
        "DELETE is not allowed on /xapi/statements.",
    ),
    415: (
        "Unsupported request media type.",
        "unsupported-media-type",
        "Unsupported media type",
        "Send application/json.",
    ),
    422: (
        "A field is not valid; invalidParams names each one.",
        "validation-error",
        "Request is not valid",
        "1 field is not valid.",
    ),
    428: (
        "If-Match is required for this change.",
        "precondition-required",
        "If-Match is required",
        "Send If-Match with the ETag you last read.",
    ),
    429: (
        "Over this client's (or, unauthenticated, this address's) rate limit "
        "(`RateLimit-Policy` gives the quota); retry after "
        "`Retry-After` seconds.",
        "rate-limited",
        "Too many requests",
        "Slow down: retry after the number of seconds in Retry-After.",
    ),
    500: (
        "Unexpected error; quote the requestId.",
        "internal-error",
        "Internal server error",
        "The service could not complete the request. Quote the requestId when reporting it.",
    ),
    414: (
        "The request URL is longer than the service takes (IQT_MAX_URL_BYTES, 3072 bytes by "
        "default).",
        "uri-too-long",
        "Request URL is too long",
        "The request URL is longer than 3072 bytes.",
    ),
    431: (
        "The request headers are larger than the service takes (IQT_MAX_REQUEST_HEADER_BYTES, "
        "16384 bytes by default).",
        "headers-too-large",
        "Request headers are too large",
        "The request headers are larger than 16384 bytes.",
    ),
    503: (
        "The database is unreachable or restarting (`database-unavailable`: retry after "
        "Retry-After seconds; a write may have been stored, see the detail), or not migrated "
        "(`service-unavailable`).",
        "database-unavailable",
        "Database unavailable",
        "The database cannot be reached just now. Retry after the number of seconds in "
        "Retry-After.",
    ),
}

AUTHENTICATED = (400, 401, 403, 429, 500, 503)

# draft-ietf-httpapi-ratelimit-headers, as app/ratelimits/middleware.py sends them.
RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Policy": {
        "description": "The quota counted against: policy name, quota `q`, window `w` seconds.",
        "schema": {"type": "string", "maxLength": 200},
        "example": '"default";q=1200;w=60',
    },
    "RateLimit": {
        "description": "What remains of the quota `r`, and the seconds `t` until it resets.",
        "schema": {"type": "string", "maxLength": 200},
        "example": '"default";r=17;t=42',
    },
}
RETRY_AFTER_HEADER: dict[str, Any] = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 0, "maximum": 86400},
    "example": 42,
}

# Request bodies read by hand (JSON or CSV) that the document must still describe.
EXTRA_SCHEMAS: list[type[BaseModel]] = []


# A 409 that says nothing was stored because another request changed the same record at the
# same moment: the request may simply be sent again (app/core/problems.py, ConcurrentChange).
_CONCURRENT_CHANGE = (
    "Another request changed the same record at the same moment (`concurrent-change`): "
    "nothing was stored, and the request may simply be sent again, unchanged, after "
    "`Retry-After` seconds.",
    "concurrent-change",
    "Changed by another request at the same time",
    "Staff record 10293847 was created or changed by another request at the same time; "
    "nothing was stored. Send the request again.",
)


def _problem_example(status: int, slug: str, title: str, detail: str) -> dict[str, Any]:
    return {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "requestId": "5f0c6a3e-1c55-4a5f-9a8f-2a6f6f0b1a2c",
    }


def problem_responses(
    *statuses: int, concurrent_change: bool = False
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these problem statuses, with an example each.
    ``concurrent_change``: the operation may answer 409 ``concurrent-change`` (with
    ``Retry-After``), which the 409 entry then describes, beside ``conflict`` if listed."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, slug, title, detail = _PROBLEMS[status]
        example = _problem_example(status, slug, title, detail)
        if status == 422:
            example["invalidParams"] = [{"name": "type", "reason": "Input should be 'healthBoard'"}]
        responses[status] = {
            "description": description,
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": example,
                }
            },
        }
        if status == 429:
            responses[status]["headers"] = {"Retry-After": RETRY_AFTER_HEADER, **RATE_LIMIT_HEADERS}
    if concurrent_change:
        responses[409] = _concurrent_change_response(responses.get(409))
    return responses


def _concurrent_change_response(conflict: dict[str, Any] | None) -> dict[str, Any]:
    """The 409 entry of an operation that may be refused for a concurrent change, and for
    another conflict too when ``conflict`` is its entry."""
    description, slug, title, detail = _CONCURRENT_CHANGE
    if conflict is not None:
        description = f"{description} Otherwise (`conflict`): {conflict['description']}"
    content: dict[str, Any] = {
        "schema": {"$ref": "#/components/schemas/Problem"},
        "example": _problem_example(409, slug, title, detail),
    }
    return {
        "description": description,
        "headers": {
            "Retry-After": {
                **RETRY_AFTER_HEADER,
                "description": "With `concurrent-change`: seconds to wait before sending the "
                "request again.",
            }
        },
        "content": {PROBLEM_MEDIA_TYPE: content},
    }


def operation_id(route: APIRoute) -> str:
    """``get_organisation`` → ``getOrganisation``: stable ids for generated clients."""
    head, *rest = route.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["InvalidParam"] = InvalidParam.model_json_schema()
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem.pop("$defs", None)
    components["Problem"] = problem
    for model in EXTRA_SCHEMAS:
        extra = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in extra.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = extra
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    _paths_in_tag_order(schema)
    _parameters_never_null(schema)
    _rate_limit_headers_on_success(schema)
    _edge_limits_on_every_operation(schema)
    complete_examples(schema)
    app.openapi_schema = schema
    return schema


def _paths_in_tag_order(schema: dict[str, Any]) -> None:
    """Paths in the order of their tags, whatever order the routers are matched in (the
    busiest routes are matched first, see ``create_app``)."""
    rank = {tag["name"]: index for index, tag in enumerate(schema.get("tags", []))}

    def first_tag(operations: dict[str, Any]) -> int:
        tags = [t for operation in operations.values() for t in operation.get("tags", [])]
        return rank.get(tags[0], len(rank)) if tags else len(rank)

    paths = schema.get("paths", {})
    schema["paths"] = dict(sorted(paths.items(), key=lambda item: first_tag(item[1])))


def _parameters_never_null(schema: dict[str, Any]) -> None:
    """``str | None = None`` makes FastAPI document a parameter as ``anyOf [string, null]``, but
    a query, header or path parameter is absent or text: it is never JSON null."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                parameter_schema = parameter.get("schema", {})
                choices = parameter_schema.get("anyOf")
                if not choices or {"type": "null"} not in choices:
                    continue
                rest = [choice for choice in choices if choice != {"type": "null"}]
                del parameter_schema["anyOf"]
                if len(rest) == 1:
                    parameter_schema.update(rest[0])
                else:
                    parameter_schema["anyOf"] = rest


def _edge_limits_on_every_operation(schema: dict[str, Any]) -> None:
    """Any request may be over the URL or header limits (414, 431), and one with a parameter
    may hold a NUL character in it (422), whatever the operation."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            statuses = [414, 431]
            if operation.get("parameters") and "422" not in responses:
                statuses.append(422)
            for status, response in problem_responses(*statuses).items():
                responses.setdefault(str(status), response)
            operation["responses"] = dict(sorted(responses.items()))


def _rate_limit_headers_on_success(schema: dict[str, Any]) -> None:
    """A rate-limited operation (one that documents 429) answers every success with the
    RateLimit headers of the quota it was counted against."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "429" not in responses:
                continue
            for status, response in responses.items():
                if status.startswith("2"):
                    response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)
