"""HTTP for the xAPI document resources (State, Activity Profile, Agent Profile) and the
Activities and Agents resources. As on the statement resource, the version header is checked
after authentication and named on every answer; the alternate request syntax of 1.0.x is turned
into the request it stands for by app/completions/xapi_alternate.py."""

from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.completions import xapi_activities, xapi_documents
from app.completions.xapi_documents import (
    ACTIVITY_PROFILE,
    AGENT_PROFILE,
    STATE,
    Kind,
    Preconditions,
)
from app.completions.xapi_router import (
    VERSION_PARAMETER,
    VERSION_RESPONSE_HEADER,
    VersionHeader,
    version_answered,
    versioned,
)
from app.completions.xapi_validation import IRI
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import AUTHENTICATED, problem_responses

router = APIRouter(route_class=SessionRoute, tags=["xAPI"])

_ACTIVITY_ID = "http://www.example.com/activityId/hashset"
_AGENT = (
    '{"objectType": "Agent", "account": '
    '{"homePage": "https://learning.nhs.wales", "name": "10293847"}}'
)
_DOCUMENT = {"bookmark": "page-4", "progress": {"score": 0.5}}
_TEXT = {"type": "string", "maxLength": 2000}
_ID = {"type": "string", "minLength": 1, "maxLength": 2000}
# What app/completions/xapi_validation.py takes for an IRI.
_IRI = {"type": "string", "pattern": IRI.pattern, "maxLength": 2000}


def _query(
    name: str, description: str, schema: dict[str, Any], example: str, *, required: bool
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
        "example": example,
    }


def _activity(required: bool = True) -> dict[str, Any]:
    return _query(
        "activityId", "The activity's id (an IRI).", _IRI, _ACTIVITY_ID, required=required
    )


def _agent() -> dict[str, Any]:
    return _query(
        "agent",
        "An Agent (or identified Group) as JSON: one of mbox, mbox_sha1sum, openid, account.",
        _TEXT,
        _AGENT,
        required=True,
    )


_REGISTRATION = _query(
    "registration",
    "The registration (a UUID) the state belongs to.",
    {"type": "string", "format": "uuid", "maxLength": 36},
    "3d1bc5f2-9e8a-4b0e-9a8e-0f4a0c8f3f61",
    required=False,
)
_SINCE = _query(
    "since",
    "Without the document id: only the ids of documents changed after this time.",
    {"type": "string", "format": "date-time", "maxLength": 40},
    "2026-11-20T14:03:00Z",
    required=False,
)
MAX_ETAGS_LENGTH = 2000
_ETAG_SCHEMA = {"type": "string", "maxLength": MAX_ETAGS_LENGTH}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "Change the document only if its ETag is one of these (`*`: if it exists).",
    "schema": _ETAG_SCHEMA,
    "example": '"2a4f6e8e4d0e8b6f0c3c7c4f0c4b1b5a6d8e9f00"',
}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "`*`: store the document only if there is none.",
    "schema": _ETAG_SCHEMA,
    "example": "*",
}
_DOCUMENT_HEADERS = {
    **VERSION_RESPONSE_HEADER,
    "ETag": {
        "description": "The document's SHA-1, quoted: send it as If-Match to change it.",
        "schema": {"type": "string", "maxLength": 42},
    },
    "Last-Modified": {
        "description": "When the document last changed.",
        "schema": {"type": "string", "maxLength": 40},
    },
}
_ANY_DOCUMENT = {
    "schema": {"type": "string", "format": "binary", "maxLength": 10_485_760},
    "example": "any content, stored and answered as sent",
}
_BODY = {
    "required": True,
    "description": "The document, of any content type (stored and answered with it). POST "
    "merges a JSON object into a stored JSON object, one level deep.",
    "content": {
        "application/json": {"schema": {"type": "object"}, "example": _DOCUMENT},
        "application/octet-stream": _ANY_DOCUMENT,
    },
}
_WRITE_PROBLEMS = problem_responses(*AUTHENTICATED, 409, 412, 413, 422, concurrent_change=True)
_DELETE_PROBLEMS = problem_responses(*AUTHENTICATED, 412, 422, concurrent_change=True)


def _preconditions(request: Request) -> Preconditions:
    sent = {name: request.headers.get(name) for name in ("If-Match", "If-None-Match")}
    for name, value in sent.items():
        if value is not None and len(value) > MAX_ETAGS_LENGTH:
            raise xapi_documents.refused(name, f"At most {MAX_ETAGS_LENGTH} characters.")
    return Preconditions(if_match=sent["If-Match"], if_none_match=sent["If-None-Match"])


def _add_document_resource(path: str, kind: Kind, title: str, parameters: list[Any]) -> None:
    """GET (and HEAD), PUT, POST and DELETE of one document resource."""
    name = kind.name[0].upper() + kind.name[1:]
    id_parameter = _query(
        kind.id_parameter,
        f"The document's id. {'GET' if kind is not STATE else 'GET and DELETE'} without it: "
        "all of them (GET: their ids).",
        _ID,
        "bookmark",
        required=False,
    )
    one = {**id_parameter, "required": True, "description": "The document's id."}

    async def read(
        request: Request,
        session: SessionDep,
        caller: Annotated[Caller, requires(Scope.COMPLETIONS_READ)],
        version: VersionHeader = None,
    ) -> Response:
        answered = version_answered(request, version)
        params = dict(request.query_params)
        with versioned(answered) as headers:
            if kind.id_parameter in params:
                found = await xapi_documents.read_document(session, caller, kind, params, answered)
                headers["ETag"] = f'"{found.etag}"'
                headers["Last-Modified"] = format_datetime(found.updated_at, usegmt=True)
                content = found.content if request.method != "HEAD" else None
                return Response(content, headers=headers, media_type=found.content_type)
            ids = await xapi_documents.read_document_ids(session, caller, kind, params, answered)
            if ids.last_modified is not None:
                headers["Last-Modified"] = format_datetime(ids.last_modified, usegmt=True)
            if request.method == "HEAD":
                return Response(headers=headers, media_type="application/json")
            return JSONResponse(ids.ids, headers=headers)

    read.__doc__ = (
        f"xAPI {title} Resource: one document by `{kind.id_parameter}`, as it was stored (with "
        "its ETag and Last-Modified), or without it the ids of the documents (changed after "
        "`since`). Only the documents this client stored. HEAD answers the same headers."
    )

    async def store(
        request: Request,
        session: SessionDep,
        caller: Annotated[Caller, requires(Scope.COMPLETIONS_WRITE)],
        version: VersionHeader = None,
    ) -> Response:
        answered = version_answered(request, version)
        with versioned(answered) as headers:
            await xapi_documents.store_document(
                session,
                caller,
                kind,
                dict(request.query_params),
                answered,
                content=await request.body(),
                content_type=request.headers.get("content-type"),
                preconditions=_preconditions(request),
                merge=request.method == "POST",
            )
        return Response(status_code=204, headers=headers)

    async def remove(
        request: Request,
        session: SessionDep,
        caller: Annotated[Caller, requires(Scope.COMPLETIONS_WRITE)],
        version: VersionHeader = None,
    ) -> Response:
        answered = version_answered(request, version)
        with versioned(answered) as headers:
            await xapi_documents.delete_document(
                session, caller, kind, dict(request.query_params), answered, _preconditions(request)
            )
        return Response(status_code=204, headers=headers)

    remove.__doc__ = (
        f"xAPI {title} Resource: deletes the document"
        + (
            ", or without `stateId` every state of the activity, agent and registration"
            if kind is STATE
            else ""
        )
        + " (this client's). Deleting a document that is not there is no error."
    )
    guard = (
        "A PUT replacing a document needs If-Match (its ETag) or If-None-Match: * (409 "
        "without); xAPI 1.0.x asks one on every PUT of a profile (400 without)."
        if kind.profile
        else "From xAPI 2.0, a PUT replacing a state needs If-Match or If-None-Match (409)."
    )
    put_doc = f"xAPI {title} Resource: stores the document as sent. {guard}"
    post_doc = (
        f"xAPI {title} Resource: merges the JSON object sent into the stored one (its "
        "properties replace theirs, one level deep), or stores it when there is none; 400 when "
        "either is not a JSON object."
    )
    readable = [VERSION_PARAMETER, *parameters, id_parameter, *([_SINCE])]
    writable = [VERSION_PARAMETER, *parameters, one, _IF_MATCH, _IF_NONE_MATCH]
    removable = [VERSION_PARAMETER, *parameters, id_parameter if kind is STATE else one, _IF_MATCH]
    read_responses: dict[int | str, Any] = {
        200: {
            "description": f"The document (with `{kind.id_parameter}`), or the ids.",
            "headers": _DOCUMENT_HEADERS,
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"type": "object"},
                            {"type": "array", "items": _TEXT, "maxItems": 1_000_000},
                        ]
                    },
                    "example": _DOCUMENT,
                },
                "application/octet-stream": _ANY_DOCUMENT,
            },
        },
        **problem_responses(*AUTHENTICATED, 404, 422),
    }
    router.add_api_route(
        path, read, methods=["HEAD"], include_in_schema=False, name=f"get_xapi_{name}"
    )
    router.add_api_route(
        path,
        read,
        methods=["GET"],
        name=f"get_xapi_{name}",
        summary=f"Read xAPI {title.lower()} documents",
        responses=read_responses,
        openapi_extra={"parameters": readable},
    )
    for method, doc, summary in (
        ("PUT", put_doc, f"Store an xAPI {title.lower()} document"),
        ("POST", post_doc, f"Merge into an xAPI {title.lower()} document"),
    ):
        router.add_api_route(
            path,
            store,
            methods=[method],
            status_code=204,
            name=f"{method.lower()}_xapi_{name}",
            summary=summary,
            description=doc,
            responses={
                204: {"description": "Stored.", "headers": VERSION_RESPONSE_HEADER},
                **_WRITE_PROBLEMS,
            },
            openapi_extra={"parameters": writable, "requestBody": _BODY},
        )
    router.add_api_route(
        path,
        remove,
        methods=["DELETE"],
        status_code=204,
        name=f"delete_xapi_{name}",
        summary=f"Delete xAPI {title.lower()} documents",
        responses={
            204: {"description": "Deleted.", "headers": VERSION_RESPONSE_HEADER},
            **_DELETE_PROBLEMS,
        },
        openapi_extra={"parameters": removable},
    )


_add_document_resource(
    "/xapi/activities/state", STATE, "State", [_activity(), _agent(), _REGISTRATION]
)
_add_document_resource(
    "/xapi/activities/profile", ACTIVITY_PROFILE, "Activity Profile", [_activity()]
)
_add_document_resource("/xapi/agents/profile", AGENT_PROFILE, "Agent Profile", [_agent()])


@router.head("/xapi/activities", include_in_schema=False)
@router.get(
    "/xapi/activities",
    summary="Read an xAPI activity",
    responses={
        200: {
            "description": "The Activity, its definition as the statements define it.",
            "headers": VERSION_RESPONSE_HEADER,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "objectType": "Activity",
                        "id": _ACTIVITY_ID,
                        "definition": {"name": {"en-GB": "Improving Quality Together: Bronze"}},
                    },
                }
            },
        },
        **problem_responses(*AUTHENTICATED, 422),
    },
    openapi_extra={"parameters": [VERSION_PARAMETER, _activity()]},
)
async def get_xapi_activity(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_READ)],
    version: VersionHeader = None,
) -> Response:
    """xAPI Activities Resource: the Activity `activityId` names, its definition merged from
    the latest statements (this client may read) that name it: a later value wins; name,
    description and extensions gather every language and key. Just its id when none does."""
    with versioned(version_answered(request, version)) as headers:
        activity = await xapi_activities.read_activity(session, caller, dict(request.query_params))
    if request.method == "HEAD":
        return Response(headers=headers, media_type="application/json")
    return JSONResponse(activity, headers=headers)


@router.head("/xapi/agents", include_in_schema=False)
@router.get(
    "/xapi/agents",
    summary="Read an xAPI agent as a Person",
    responses={
        200: {
            "description": "The Person: the agent's name and identifier, each in an array.",
            "headers": VERSION_RESPONSE_HEADER,
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "objectType": "Person",
                        "account": [{"homePage": "https://learning.nhs.wales", "name": "10293847"}],
                    },
                }
            },
        },
        **problem_responses(*AUTHENTICATED, 422),
    },
    openapi_extra={"parameters": [VERSION_PARAMETER, _agent()]},
)
async def get_xapi_agent(
    request: Request,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_READ)],
    version: VersionHeader = None,
) -> Response:
    """xAPI Agents Resource: the Person the `agent` parameter names (its name and identifier,
    each as an array: this LRS does not join one person's several identifiers)."""
    answered = version_answered(request, version)
    with versioned(answered) as headers:
        person = xapi_activities.read_agent(caller, dict(request.query_params), answered)
    if request.method == "HEAD":
        return Response(headers=headers, media_type="application/json")
    return JSONResponse(person, headers=headers)
