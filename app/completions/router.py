from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.completions import batches, service
from app.completions.csv_format import COLUMNS
from app.completions.idempotency import HEADER as IDEMPOTENCY_KEY
from app.completions.schemas import (
    CompletionBatch,
    CompletionBatchResult,
    CompletionIn,
    CompletionPage,
    CompletionRead,
    MatchStatus,
    RetractionIn,
)
from app.core.batch_bodies import batch_format, batch_request_body
from app.core.collector import collections_paused
from app.core.database import SessionDep, SessionRoute
from app.core.identifiers import EMPLOYEE_NUMBER_PATTERN
from app.core.openapi import AUTHENTICATED, EXTRA_SCHEMAS, problem_responses
from app.core.pagination import PageMeta, PageRequest, page_links, page_request
from app.core.problems import ValidationFailed
from app.core.schemas import IsoDateTime
from app.courses.schemas import COURSE_CODE_PATTERN

router = APIRouter(route_class=SessionRoute, tags=["Completions"])
EXTRA_SCHEMAS.append(CompletionBatch)

CompletionId = Annotated[
    int,
    Path(alias="completionId", ge=1, le=2**63 - 1, description="Completion id.", examples=[4711]),
]
# The Idempotency-Key request header of the writes that honour it.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=IDEMPOTENCY_KEY,
        max_length=300,
        # Documented only: parse_key refuses anything else with its own 400.
        json_schema_extra={
            "pattern": r'^"?[\x21\x23-\x5b\x5d-\x7e][\x20\x21\x23-\x5b\x5d-\x7e]{0,254}"?$'
        },
        description="Optional (IETF draft): a retry with the same key replays the first "
        "answer; the same key with another payload is 422; a retry while the first is "
        "still processed is 409. Keys are kept 24 hours.",
    ),
]
REPLAYED_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the answer to an earlier request with the same "
        "Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
LOCATION_HEADER = {
    "Location": {"description": "The completion.", "schema": {"type": "string", "maxLength": 2048}}
}


def completion_url(request: Request) -> Callable[[int], str]:
    """A completion's address, as ``url_for("get_completion")`` gives it, without searching the
    route table on every request (it showed in profiles of the busiest write)."""
    base = str(request.base_url)
    return lambda completion_id: f"{base}completions/{completion_id}"


@router.post(
    "/completions",
    summary="Record a course completion",
    response_model=CompletionRead,
    status_code=201,
    responses={
        200: {
            "description": "Sent before: the same completion.",
            "model": CompletionRead,
            "headers": REPLAYED_HEADER,
        },
        201: {"description": "Recorded.", "headers": {**LOCATION_HEADER, **REPLAYED_HEADER}},
        **problem_responses(*AUTHENTICATED, 409, 413, 422),
    },
)
async def record_completion(
    body: CompletionIn,
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_WRITE)],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Records a completion for the calling platform: 201 (matched, or kept unmatched until HR
    sends the person); a repeat of the same externalId and content is 200 and writes nothing;
    the same externalId with other content is 409 naming the fields that differ. A client
    limited to some organisations is matched only to their staff: anyone else is not found,
    and the completion stays unmatched until HR sends a person of those organisations."""
    submission = service.Submission(caller, body, completion_url(request))
    answer = await service.post_completion(
        session,
        submission,
        idempotency_key=idempotency_key,
        groups=request.app.state.completion_groups,
    )
    headers = {"Location": answer.location} if answer.status == 201 and answer.location else {}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


@router.get(
    "/completions",
    summary="List completions",
    response_model=CompletionPage,
    responses=problem_responses(*AUTHENTICATED, 422),
)
async def list_completions(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_READ)],
    page: Annotated[PageRequest, page_request("completions")],
    employee_number: Annotated[
        str | None,
        Query(
            alias="employeeNumber",
            pattern=EMPLOYEE_NUMBER_PATTERN,
            description="The person's (matched, or unmatched ones sent with this number).",
        ),
    ] = None,
    course_code: Annotated[
        str | None, Query(alias="courseCode", pattern=COURSE_CODE_PATTERN)
    ] = None,
    match_status: Annotated[MatchStatus | None, Query(alias="matchStatus")] = None,
    retracted: Annotated[bool | None, Query(description="Only retracted (or kept) ones.")] = None,
    since: Annotated[
        IsoDateTime | None,
        Query(description="Recorded, matched or retracted at or after (RFC 3339), for sync."),
    ] = None,
) -> CompletionPage:
    """Completions visible to this client, oldest first. Organisation-restricted clients see
    their organisations' matched completions and the unmatched ones they sent."""
    result = await service.list_completions(
        session,
        caller,
        page,
        employee_number=employee_number,
        course_code=course_code,
        match_status=match_status,
        retracted=retracted,
        since=since,
    )
    return CompletionPage(
        data=[service.to_read(row) for row in result.items],
        links=page_links(request, result.next_token),
        meta=PageMeta(page_size=page.size, count=len(result.items)),
    )


@router.get(
    "/completions/{completionId}",
    summary="Get a completion",
    response_model=CompletionRead,
    responses=problem_responses(*AUTHENTICATED, 404, 422),
)
async def get_completion(
    completion_id: CompletionId,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_READ)],
) -> CompletionRead:
    """One completion (retracted ones included)."""
    return service.to_read(await service.get_completion(session, caller, completion_id))


@router.delete(
    "/completions/{completionId}",
    summary="Retract a completion",
    response_model=CompletionRead,
    responses=problem_responses(*AUTHENTICATED, 404, 413, 422),
)
async def retract_completion(
    completion_id: CompletionId,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_WRITE)],
    reason: Annotated[
        str | None,
        Query(min_length=1, max_length=500, description="Why (or send it in the body)."),
    ] = None,
    body: Annotated[RetractionIn | None, Body()] = None,
) -> CompletionRead:
    """Marks a completion retracted, with a reason (query `reason` or body); it stays readable.
    Only the client that sent it, or a client with no organisation restriction, may; a
    completion the client cannot read (GET is 404) is 404 here too."""
    why = reason if reason is not None else body.reason if body is not None else None
    if why is None or not why.strip():
        raise ValidationFailed(
            "A retraction says why.", invalid_params=[("reason", "Send a reason.")]
        )
    view = await service.retract_completion(session, caller, completion_id, why.strip())
    return service.to_read(view)


_CSV_DESCRIPTION = (
    'JSON `{"records": [...]}` or CSV. CSV columns (header line required, names as here): '
    + ", ".join(COLUMNS)
    + ". UTF-8 with or without BOM; fields quoted as RFC 4180; CRLF or LF; completedAt in "
    "RFC 3339 with an offset; passed true/false, yes/no, Y/N or 1/0; scoreScaled 0 to 1; empty "
    "cells are left out."
)


@router.post(
    "/completionBatches",
    summary="Send a batch of completions",
    response_model=CompletionBatchResult,
    responses={
        200: {"headers": REPLAYED_HEADER},
        **problem_responses(*AUTHENTICATED, 409, 413, 415, 422),
    },
    openapi_extra={
        "requestBody": batch_request_body(
            "CompletionBatch",
            ",".join(COLUMNS) + "\r\nmoodle-cc-88213,10293847,sian.llyr@wales.nhs.uk,IQT-BRONZE,"
            "2026-11-20T14:03:00Z,true,0.9\r\n",
            _CSV_DESCRIPTION,
        )
    },
)
async def post_completion_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.COMPLETIONS_WRITE)],
    idempotency_key: IdempotencyKey = None,
) -> CompletionBatchResult:
    """Up to 10,000 completions as JSON or CSV. New ones are stored (matched or unmatched),
    ones sent before unchanged are counted and written again never, so a batch can be re-sent
    safely; each rejected record is listed with its row and reasons. As for one completion, a
    client limited to some organisations is matched only to their staff. With an
    Idempotency-Key, a retry of the same body gets the first answer again (its counts, not
    "unchanged")."""
    body_format = batch_format(request.headers.get("content-type", ""))
    body = await request.body()
    with collections_paused():
        result, replayed = await batches.post_completion_batch(
            session, caller, body, body_format, idempotency_key=idempotency_key
        )
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return result
