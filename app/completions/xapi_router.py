import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.completions import xapi, xapi_reads
from app.completions.schemas import MAX_BATCH_RECORDS
from app.completions.xapi_multipart import (
    MEDIA_TYPE,
    AttachmentPart,
    read_multipart,
    write_multipart,
)
from app.completions.xapi_signatures import SIGNATURE_USAGE
from app.completions.xapi_statements import statement_uuid
from app.completions.xapi_versions import answered_version, offered_versions
from app.core.batch_bodies import read_json
from app.core.clock import utcnow
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.problems import BadRequest, ProblemError

router = APIRouter(route_class=SessionRoute, tags=["xAPI"])

VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"
SUPPORTED_VERSIONS = ("1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0")
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
_BODY_DESCRIPTION = (
    "Every valid statement is stored as received. Statements with the verbs completed, passed "
    "or failed (http://adlnet.gov/expapi/verbs/...) on an activity id a course lists in "
    "xapiActivityIds also become completions: result.success (else the verb) says passed, "
    "result.score.scaled is the score, timestamp the completion time, and result.completion "
    "false means not completed. The actor is matched by account (name: the employee number; "
    "homePage: the one configured for the client), mbox or mbox_sha1sum."
)
_ATTACHMENT_TEXT = "here is a simple attachment"
_ATTACHMENT_SHA2 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
_WITH_ATTACHMENT = {
    **_STATEMENT_EXAMPLE,
    "attachments": [
        {
            "usageType": "http://example.com/attachment-usage/test",
            "display": {"en-US": "A test attachment"},
            "contentType": "text/plain; charset=ascii",
            "length": len(_ATTACHMENT_TEXT),
            "sha2": _ATTACHMENT_SHA2,
        }
    ],
}
_MULTIPART_EXAMPLE = (
    "--abcABC0123\r\nContent-Type: application/json\r\n\r\n"
    + json.dumps(_WITH_ATTACHMENT)
    + "\r\n--abcABC0123\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary"
    + f"\r\nX-Experience-API-Hash: {_ATTACHMENT_SHA2}\r\n\r\n{_ATTACHMENT_TEXT}"
    + "\r\n--abcABC0123--\r\n"
)
# xAPI's transmission format for attachments (app/completions/xapi_multipart.py).
_MULTIPART = {
    "schema": {
        "type": "string",
        "format": "binary",
        "description": "Content-Type: multipart/mixed; boundary=...: the statement(s) as the "
        "first part (application/json), then the raw data of each attachment declared without "
        "a fileUrl, one part each, with X-Experience-API-Hash (its sha2) and "
        "Content-Transfer-Encoding: binary. A signature attachment (usageType "
        f"{SIGNATURE_USAGE}, application/octet-stream) is a JWS of its statement, checked.",
        "maxLength": 10_485_760,
    },
    "example": _MULTIPART_EXAMPLE,
}
_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}, "example": _STATEMENT_EXAMPLE},
        MEDIA_TYPE: _MULTIPART,
    },
    "description": "An xAPI statement. " + _BODY_DESCRIPTION,
}


# xAPI 1.0.x alternate request syntax (app/completions/xapi_alternate.py).
_ALTERNATE_FORM = {
    "schema": {
        "type": "object",
        "description": "With method=...: the request it stands for, as form fields: its "
        "headers (Authorization, X-Experience-API-Version, Content-Type, If-Match, "
        "If-None-Match), its parameters, and its body as content. xAPI 1.0.x only.",
        "properties": {"content": {"type": "string", "maxLength": 10_000_000}},
        "additionalProperties": {"type": "string", "maxLength": 10_000},
    },
    "example": {
        "statementId": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "X-Experience-API-Version": "1.0.3",
        "content": '{"actor": {"mbox": "mailto:learner@example.org"}, "verb": {"id": '
        '"http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": '
        '"https://learning.nhs.wales/xapi/activities/iqt-bronze"}}',
    },
}
_METHOD_PARAMETER = {
    "name": "method",
    "in": "query",
    "required": False,
    "description": "xAPI 1.0.x alternate request syntax: the method of the request the form "
    "body stands for (the only query parameter then). Refused in xAPI 2.0.",
    "schema": {"type": "string", "enum": ["GET", "HEAD", "PUT", "POST", "DELETE"]},
    "example": "PUT",
}


def _post_body(max_statements: int) -> dict[str, Any]:
    """POST takes one statement or an array of them (what generated clients must be able to
    send)."""
    return {
        "required": True,
        "content": {
            "application/json": {
                # One type list, not oneOf: a statement stays valid as it always was.
                "schema": {
                    "type": ["object", "array"],
                    "description": "One statement, or an array of them stored all or none.",
                    "items": {"type": "object"},
                    "maxItems": max_statements,
                },
                "example": [_STATEMENT_EXAMPLE],
            },
            MEDIA_TYPE: _MULTIPART,
            "application/x-www-form-urlencoded": _ALTERNATE_FORM,
        },
        "description": "An xAPI statement or an array of them. " + _BODY_DESCRIPTION,
    }


VERSION_RESPONSE_HEADER = {
    VERSION_HEADER: {
        "description": "The xAPI version answered.",
        "schema": {"type": "string", "maxLength": 20},
    }
}
# Read by hand, so that a missing or unknown version is the 400 xAPI requires (not a 422), and
# documented below as the required parameter it is.
VersionHeader = Annotated[str | None, Header(alias=VERSION_HEADER, include_in_schema=False)]
VERSION_PARAMETER = {
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
# 415 stays declared as the released contract has it (removing a status is a breaking change),
# though another media type is now the 400 xAPI requires.
_WRITE_PROBLEMS = problem_responses(*AUTHENTICATED, 409, 413, 415, 422)
# Statement ids answered at most: the 10 MB body limit holds fewer (a statement is over 100 bytes).
MAX_STATEMENTS = 100_000


def _offered(request: Request) -> list[str]:
    return offered_versions(request.scope)


def version_answered(request: Request, requested: str | None) -> str:
    """The version this request is answered in (400 when it asks for none this LRS speaks)."""
    return answered_version(_offered(request), requested)


@contextmanager
def versioned(answered: str, **more: str) -> Iterator[dict[str, str]]:
    """The headers of an answer, naming the version answered (and ``more``), for the caller to
    add to; a refusal raised inside carries them too."""
    headers = {VERSION_HEADER: answered, **more}
    try:
        yield headers
    except ProblemError as exc:
        for name, value in headers.items():
            exc.headers.setdefault(name, value)
        raise


def _home_page(request: Request) -> str:
    """The homePage of the authority this LRS gives the statements a client sends."""
    return str(request.base_url).rstrip("/")


async def _statements_body(request: Request) -> tuple[Any, dict[str, AttachmentPart] | None]:
    """The statements sent, and the attachment parts by sha2 (None: application/json). Any
    other media type is the 400 xAPI requires."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == MEDIA_TYPE:
        sent = read_multipart(await request.body(), content_type)
        return read_json(sent.statements), sent.attachments
    if media_type != "application/json":
        reason = "Send statements as application/json, or multipart/mixed with attachments."
        raise BadRequest(reason, invalid_params=[("Content-Type", reason)])
    return read_json(await request.body()), None  # at most MAX_JSON_DEPTH deep


@router.post(
    "/xapi/statements",
    summary="Send xAPI statements",
    responses={
        200: {
            "description": "The statement ids, in the order sent.",
            "headers": VERSION_RESPONSE_HEADER,
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
        204: {
            "description": "xAPI 1.0.x alternate request syntax (`?method=PUT`): the statement "
            "was stored, as `PUT /xapi/statements` answers.",
            "headers": VERSION_RESPONSE_HEADER,
        },
        **_WRITE_PROBLEMS,
        # The alternate request syntax may name a method the resource does not take.
        **problem_responses(405),
    },
    openapi_extra={
        "requestBody": _post_body(MAX_BATCH_RECORDS),
        "parameters": [VERSION_PARAMETER, _METHOD_PARAMETER],
    },
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
    answered = version_answered(request, version)
    with versioned(answered) as headers:
        statements, parts = await _statements_body(request)
        ids = await xapi.receive_statements(
            session,
            caller,
            statements,
            version=answered,
            authority_home_page=_home_page(request),
            parts=parts,
        )
    return JSONResponse(ids, headers=headers)


@router.put(
    "/xapi/statements",
    summary="Send one xAPI statement with its id",
    status_code=204,
    responses={
        204: {"description": "Stored, or acknowledged.", "headers": VERSION_RESPONSE_HEADER},
        **_WRITE_PROBLEMS,
    },
    openapi_extra={
        "requestBody": _BODY,
        "parameters": [VERSION_PARAMETER, _STATEMENT_ID_PARAMETER],
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
    answered = version_answered(request, version)
    with versioned(answered) as headers:
        if statement_id is None:
            raise BadRequest(
                "statementId is required.", invalid_params=[("statementId", "Required (UUID).")]
            )
        body, parts = await _statements_body(request)
        if isinstance(body, list):
            raise BadRequest("PUT takes one statement.", invalid_params=[("statement", "One.")])
        await xapi.receive_statements(
            session,
            caller,
            body,
            version=answered,
            authority_home_page=_home_page(request),
            statement_id=statement_uuid(statement_id, "", "statementId"),
            parts=parts,
        )
    return Response(status_code=204, headers=headers)


_UUID_SCHEMA = {"type": "string", "format": "uuid", "maxLength": 36}
_FLAG_SCHEMA = {"type": "string", "enum": ["true", "false"]}
_TEXT_SCHEMA = {"type": "string", "maxLength": 2000}
_TIME_SCHEMA = {"type": "string", "format": "date-time", "maxLength": 40}
_READ_PARAMETERS = [
    {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
    for name, text, schema in [
        (
            "statementId",
            "One statement by id (not voided); with format and attachments only.",
            _UUID_SCHEMA,
        ),
        (
            "voidedStatementId",
            "One voided statement by id; with format and attachments only.",
            _UUID_SCHEMA,
        ),
        ("agent", "An Agent or identified Group as JSON: the actor or object.", _TEXT_SCHEMA),
        ("verb", "A verb id.", _TEXT_SCHEMA),
        ("activity", "An activity id: the object.", _TEXT_SCHEMA),
        ("registration", "A registration.", _UUID_SCHEMA),
        ("related_activities", "true: the activity anywhere in the statement.", _FLAG_SCHEMA),
        ("related_agents", "true: the agent anywhere in the statement.", _FLAG_SCHEMA),
        ("since", "Stored after this time.", _TIME_SCHEMA),
        ("until", "Stored at or before this time.", _TIME_SCHEMA),
        (
            "limit",
            "Statements per page (0: the most, 500).",
            {"type": "string", "pattern": r"^\d{1,9}$"},
        ),
        (
            "format",
            "exact (default), ids, or canonical (Accept-Language chooses).",
            {"type": "string", "enum": list(xapi_reads.FORMATS)},
        ),
        (
            "attachments",
            "true: multipart/mixed, with the raw data of the attachments after the JSON.",
            _FLAG_SCHEMA,
        ),
        ("ascending", "true: oldest stored first.", _FLAG_SCHEMA),
        (
            "more",
            "Set by the more link of the previous page.",
            {"type": "string", "pattern": r"^\d{1,18}$"},
        ),
    ]
]
_STATEMENT_RESULT = {
    "type": "object",
    "properties": {
        "statements": {"type": "array", "items": {"type": "object"}, "maxItems": 500},
        "more": {"type": "string", "maxLength": 10000},
    },
}


@router.head("/xapi/statements", include_in_schema=False)
@router.get(
    "/xapi/statements",
    summary="Read xAPI statements",
    responses={
        200: {
            "description": "One statement (statementId, voidedStatementId) or a page of them.",
            "headers": {
                **VERSION_RESPONSE_HEADER,
                CONSISTENT_THROUGH: {
                    "description": "Statements stored up to this time are all in the answer.",
                    "schema": {"type": "string", "maxLength": 40},
                },
            },
            "content": {
                "application/json": {"schema": _STATEMENT_RESULT},
                MEDIA_TYPE: {
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "description": "attachments=true: the answer (statement or "
                        "StatementResult) as the first part, then the raw data of each "
                        "attachment stored for its statements, one part each, with "
                        "X-Experience-API-Hash.",
                        "maxLength": 2**31 - 1,  # a page of 500 statements and their data
                    },
                    "example": _MULTIPART_EXAMPLE,
                },
            },
        },
        **problem_responses(*AUTHENTICATED, 404, 422),
    },
    openapi_extra={"parameters": [VERSION_PARAMETER, *_READ_PARAMETERS]},
)
async def get_xapi_statements(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_READ)],
    version: VersionHeader = None,
) -> Response:
    """xAPI Statement Resource: a statement by `statementId` or `voidedStatementId`, or the
    statements a query matches (newest stored first), with a `more` link to the next page.
    HEAD answers the same status and headers without the body."""
    answered = version_answered(request, version)
    params = dict(request.query_params)
    with versioned(answered, **{CONSISTENT_THROUGH: _instant(utcnow())}) as headers:
        how = params.get("format", "exact")
        languages = xapi_reads.preferred_languages(request.headers.get("accept-language"))
        if "statementId" in params or "voidedStatementId" in params:
            found = await xapi_reads.read_statement(session, caller, params)
            answered_statements = [found.statement]
            body: Any = xapi_reads.formatted(found.statement, how, languages)
            headers["Last-Modified"] = format_datetime(found.stored_at, usegmt=True)
        else:
            page = await xapi_reads.find_statements(session, caller, params, request.url.path)
            answered_statements = page.statements
            body = {
                "statements": [xapi_reads.formatted(s, how, languages) for s in page.statements],
                "more": page.more,
            }
            if page.last_stored is not None:
                headers["Last-Modified"] = format_datetime(page.last_stored, usegmt=True)
        response: Response = JSONResponse(body, headers=headers)
        if xapi_reads.wants_attachments(params):
            parts = await xapi_reads.attachments_of(session, answered_statements)
            content, media_type = write_multipart(bytes(response.body), parts)
            response = Response(content, headers=headers, media_type=media_type)
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type=response.media_type)
    return response


def _instant(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@router.get(
    "/xapi/about",
    summary="xAPI versions this LRS supports",
    responses={
        200: {
            "description": "The xAPI versions supported.",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "version": {
                                "type": "array",
                                "items": {"type": "string", "maxLength": 20},
                                "maxItems": 10,
                            }
                        },
                    },
                    "example": {"version": list(SUPPORTED_VERSIONS)},
                }
            },
        },
        **problem_responses(500),
    },
)
async def get_xapi_about(request: Request) -> JSONResponse:
    """xAPI About Resource: the versions supported (no authentication, as xAPI requires)."""
    offered = _offered(request)
    versions = [v for v in SUPPORTED_VERSIONS if xapi.version_answered(v) in offered]
    return JSONResponse({"version": versions})
