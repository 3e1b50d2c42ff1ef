from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.completions import xapi
from app.completions.xapi_statements import VERSION, statement_uuid
from app.core.batch_bodies import read_json
from app.core.database import SessionDep
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.problems import BadRequest, ProblemError, UnsupportedMediaType

router = APIRouter(tags=["xAPI"])

VERSION_HEADER = "X-Experience-API-Version"
_STATEMENT_EXAMPLE = {
    "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
    "timestamp": "2026-11-20T14:03:00+00:00",
    "actor": {
        "objectType": "Agent",
        "account": {"homePage": "https://learning.nhs.wales", "name": "10293847"},
    },
    "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-GB": "passed"}},
    "object": {"id": "https://learning.nhs.wales/xapi/activities/iqt-bronze"},
    "result": {"score": {"scaled": 0.9}, "success": True, "completion": True},
}
_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object"}, "example": _STATEMENT_EXAMPLE}},
    "description": "An xAPI statement (for POST, also an array of them). Statements with the "
    "verbs completed, passed or failed (http://adlnet.gov/expapi/verbs/...) on an activity id a "
    "course lists in xapiActivityIds become completions: result.success (else the verb) says "
    "passed, result.score.scaled is the score, timestamp the completion time, and "
    "result.completion false means not completed. The actor is matched by account (name: the "
    "employee number; homePage: the one configured for the client), mbox or mbox_sha1sum. "
    "Other statements are acknowledged and not stored.",
}
_VERSION_RESPONSE_HEADER = {
    VERSION_HEADER: {
        "description": "The xAPI version answered.",
        "schema": {"type": "string", "maxLength": 20},
    }
}
# Read by hand, so that a missing or unknown version is the 400 xAPI requires (not a 422), and
# documented below as the required parameter it is.
VersionHeader = Annotated[str | None, Header(alias=VERSION_HEADER, include_in_schema=False)]
_VERSION_PARAMETER = {
    "name": VERSION_HEADER,
    "in": "header",
    "required": True,
    "description": "1.0.x or 2.0.x; anything else (or nothing) is a 400.",
    "schema": {"type": "string", "pattern": r"^(1\.0|2\.0)(\.\d+)?$", "maxLength": 20},
    "example": "1.0.3",
}
_STATEMENT_ID_PARAMETER = {
    "name": "statementId",
    "in": "query",
    "required": True,
    "description": "The statement's id (a UUID).",
    "schema": {"type": "string", "format": "uuid", "maxLength": 36},
    "example": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
}
# Statement ids answered at most: the 10 MB body limit holds fewer (a statement is over 100 bytes).
MAX_STATEMENTS = 100_000


def _answered_version(requested: str | None) -> str:
    if requested is None or not VERSION.match(requested.strip()):
        raise BadRequest(
            f"{VERSION_HEADER} must be sent, with version 1.0.x or 2.0.x.",
            invalid_params=[(VERSION_HEADER, "Required: 1.0.x or 2.0.x.")],
            headers={VERSION_HEADER: "1.0.3"},
        )
    return xapi.version_answered(requested.strip())


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType("Send statements as application/json.")
    return read_json(await request.body())


@router.post(
    "/xapi/statements",
    summary="Send xAPI statements",
    responses={
        200: {
            "description": "The statement ids, in the order sent.",
            "headers": _VERSION_RESPONSE_HEADER,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "items": {"type": "string", "format": "uuid"},
                        "maxItems": MAX_STATEMENTS,
                    },
                    "example": ["fd41c918-b88b-4b20-a0a5-a4c32391aaa0"],
                }
            },
        },
        **problem_responses(*AUTHENTICATED, 409, 413, 415, 422),
    },
    openapi_extra={"requestBody": _BODY, "parameters": [_VERSION_PARAMETER]},
)
async def post_xapi_statements(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_WRITE)],
    version: VersionHeader = None,
) -> Any:
    """xAPI Statement Resource: one statement or an array, stored all or none; answers the
    statement ids (generated for statements sent without one). The actor names a person only
    among the staff of the client's organisations when it is limited to some."""
    answered = _answered_version(version)
    try:
        ids = await xapi.receive_statements(session, caller, await _json_body(request))
    except ProblemError as exc:
        exc.headers.setdefault(VERSION_HEADER, answered)
        raise
    return JSONResponse(ids, headers={VERSION_HEADER: answered})


@router.put(
    "/xapi/statements",
    summary="Send one xAPI statement with its id",
    status_code=204,
    responses={
        204: {"description": "Stored, or acknowledged.", "headers": _VERSION_RESPONSE_HEADER},
        **problem_responses(*AUTHENTICATED, 409, 413, 415, 422),
    },
    openapi_extra={
        "requestBody": _BODY,
        "parameters": [_VERSION_PARAMETER, _STATEMENT_ID_PARAMETER],
    },
)
async def put_xapi_statement(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_WRITE)],
    version: VersionHeader = None,
    statement_id: Annotated[str | None, Query(alias="statementId", include_in_schema=False)] = None,
) -> Response:
    """xAPI Statement Resource: stores one statement under `statementId` (a repeat with the
    same content is 204 again; other content is 409)."""
    answered = _answered_version(version)
    try:
        if statement_id is None:
            raise BadRequest(
                "statementId is required.", invalid_params=[("statementId", "Required (UUID).")]
            )
        body = await _json_body(request)
        if isinstance(body, list):
            raise BadRequest("PUT takes one statement.", invalid_params=[("statement", "One.")])
        await xapi.receive_statements(
            session, caller, body, statement_id=statement_uuid(statement_id, "", "statementId")
        )
    except ProblemError as exc:
        exc.headers.setdefault(VERSION_HEADER, answered)
        raise
    return Response(status_code=204, headers={VERSION_HEADER: answered})
