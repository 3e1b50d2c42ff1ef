import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import AwareDatetime, ValidationError

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.clock import today
from app.core.database import SessionDep
from app.core.etag import etag_for
from app.core.openapi import AUTHENTICATED, EXTRA_SCHEMAS, problem_responses
from app.core.pagination import PageMeta, PageRequest, page_links, page_request
from app.core.problem_handlers import error_location
from app.core.problems import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from app.organisations.schemas import ODS_CODE_PATTERN
from app.staff import batches, service
from app.staff.csv_format import COLUMNS, parse_staff_csv
from app.staff.schemas import (
    EMPLOYEE_NUMBER_PATTERN,
    MAX_BATCH_RECORDS,
    BatchMode,
    StaffBatch,
    StaffBatchIn,
    StaffBatchResult,
    StaffHistoryPeriod,
    StaffHistoryRead,
    StaffPage,
    StaffPatch,
    StaffPut,
    StaffRead,
)
from app.staff.service import StaffView

router = APIRouter(tags=["Staff"])
EXTRA_SCHEMAS.append(StaffBatch)

EmployeeNumberPath = Annotated[
    str,
    Path(
        alias="employeeNumber",
        pattern=EMPLOYEE_NUMBER_PATTERN,
        description="HR employee number.",
        examples=["10293847"],
    ),
]
IfMatch = Annotated[
    str | None, Header(alias="If-Match", max_length=200, description="ETag last read.")
]
ETAG_HEADER = {"ETag": {"description": "Version of the record.", "schema": {"type": "string"}}}


def _read(view: StaffView) -> StaffRead:
    member, on = view.member, today()
    return StaffRead(
        employee_number=member.employee_number,
        given_name=member.given_name,
        family_name=member.family_name,
        work_email=member.work_email,
        organisation=member.organisation_ods_code,
        staff_group=view.staff_group_name,
        job_title=member.job_title,
        board_member=member.board_member,
        start_date=member.start_date,
        end_date=member.end_date,
        active=member.start_date <= on and (member.end_date is None or member.end_date >= on),
        created_at=member.created_at,
        updated_at=member.updated_at,
    )


@router.get(
    "/staff",
    summary="List staff",
    response_model=StaffPage,
    responses=problem_responses(*AUTHENTICATED, 422),
)
async def list_staff(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_READ)],
    page: Annotated[PageRequest, page_request("staff")],
    organisation: Annotated[str | None, Query(pattern=ODS_CODE_PATTERN)] = None,
    staff_group: Annotated[
        str | None, Query(alias="staffGroup", max_length=100, description="Name or code.")
    ] = None,
    board_member: Annotated[bool | None, Query(alias="boardMember")] = None,
    active: Annotated[
        bool | None, Query(description="true: started and not left; false: leavers.")
    ] = None,
    updated_since: Annotated[
        AwareDatetime | None,
        Query(alias="updatedSince", description="Changed at or after (RFC 3339), for sync."),
    ] = None,
) -> StaffPage:
    """Staff visible to this client in a stable order; sync with `updatedSince`."""
    result = await service.list_staff(
        session,
        caller,
        page,
        organisation=organisation,
        staff_group=staff_group,
        board_member=board_member,
        active=active,
        updated_since=updated_since,
    )
    return StaffPage(
        data=[_read(StaffView(member, group)) for member, group in result.items],
        links=page_links(request, result.next_token),
        meta=PageMeta(page_size=page.size, count=len(result.items)),
    )


@router.get(
    "/staff/{employeeNumber}",
    summary="Get a staff member",
    response_model=StaffRead,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(*AUTHENTICATED, 404, 422)},
)
async def get_staff_member(
    employee_number: EmployeeNumberPath,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_READ)],
) -> StaffRead:
    """One staff member, with the ETag to send in If-Match."""
    view = await service.get_staff(session, caller, employee_number)
    response.headers["ETag"] = etag_for(view.member.version)
    return _read(view)


@router.get(
    "/staff/{employeeNumber}/history",
    summary="Get a staff member's dated history",
    response_model=StaffHistoryRead,
    responses=problem_responses(*AUTHENTICATED, 404, 422),
)
async def get_staff_history(
    employee_number: EmployeeNumberPath,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_READ)],
) -> StaffHistoryRead:
    """The organisation, staff group and board membership the person had, with the dates
    each applied from; uptake "as of" a date counts them where they were then."""
    periods = await service.get_history(session, caller, employee_number)
    return StaffHistoryRead(
        employee_number=employee_number,
        periods=[
            StaffHistoryPeriod(
                valid_from=p.valid_from,
                valid_to=p.valid_to,
                organisation=p.organisation_ods_code,
                staff_group=p.staff_group,
                board_member=p.board_member,
            )
            for p in periods
        ],
    )


@router.put(
    "/staff/{employeeNumber}",
    summary="Create or replace a staff member",
    response_model=StaffRead,
    responses={
        200: {"description": "Replaced, or unchanged.", "headers": ETAG_HEADER},
        201: {"description": "Created.", "model": StaffRead, "headers": ETAG_HEADER},
        **problem_responses(*AUTHENTICATED, 404, 412, 413, 422),
    },
)
async def put_staff_member(
    employee_number: EmployeeNumberPath,
    body: StaffPut,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_WRITE)],
    if_match: IfMatch = None,
) -> StaffRead:
    """Creates (201) or replaces (200) the record HR holds for this employee number. A PUT
    that changes nothing answers 200 and writes no event or history."""
    view = await service.put_staff(session, caller, employee_number, body, if_match)
    response.headers["ETag"] = etag_for(view.member.version)
    if view.created:
        response.status_code = 201
        response.headers["Location"] = str(
            request.url_for("get_staff_member", employeeNumber=employee_number)
        )
    return _read(view)


@router.patch(
    "/staff/{employeeNumber}",
    summary="Change some fields of a staff member",
    response_model=StaffRead,
    responses={
        200: {"headers": ETAG_HEADER},
        **problem_responses(*AUTHENTICATED, 404, 412, 413, 422),
    },
)
async def patch_staff_member(
    employee_number: EmployeeNumberPath,
    body: StaffPatch,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_WRITE)],
    if_match: IfMatch = None,
) -> StaffRead:
    """Changes only the fields sent (JSON merge patch: `null` clears an optional field)."""
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    try:
        view = await service.patch_staff(session, caller, employee_number, changes, if_match)
    except ValidationError as exc:
        raise ValidationFailed(
            "The changed record is not valid.",
            invalid_params=[(error_location(e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None
    response.headers["ETag"] = etag_for(view.member.version)
    return _read(view)


_CSV_DESCRIPTION = (
    "CSV columns (header line required, names as here): "
    + ", ".join(COLUMNS)
    + ". UTF-8 with or without BOM; fields quoted as RFC 4180 (commas and newlines inside "
    "quotes); CRLF or LF; dates YYYY-MM-DD or DD/MM/YYYY; boardMember true/false, yes/no, "
    "Y/N or 1/0; empty cells are left out."
)


@router.post(
    "/staffBatches",
    summary="Send a batch of staff records",
    response_model=StaffBatchResult,
    responses=problem_responses(*AUTHENTICATED, 404, 409, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/StaffBatch"}},
                "text/csv": {
                    "schema": {"type": "string", "maxLength": 10485760},
                    "example": "employeeNumber,givenName,familyName,organisation,staffGroup,"
                    "startDate\r\n10293847,Siân,Llŷr,7A4,03,01/04/2019\r\n",
                },
            },
            "description": _CSV_DESCRIPTION,
        }
    },
)
async def post_staff_batch(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_WRITE)],
    mode: Annotated[
        BatchMode | None, Query(description="For CSV bodies: upsert or fullSnapshot.")
    ] = None,
    organisation: Annotated[
        str | None, Query(pattern=ODS_CODE_PATTERN, description="For CSV bodies.")
    ] = None,
    allow_mass_leavers: Annotated[
        bool,
        Query(
            alias="allowMassLeavers",
            description="Let a full snapshot end-date more than the configured share "
            "(default 20%) of the organisation's active staff.",
        ),
    ] = False,
) -> StaffBatchResult:
    """Up to 10,000 staff records as JSON or CSV. Valid records are stored even when others
    are rejected; each rejected record is listed with its row and reasons. In `fullSnapshot`
    mode the organisation's active staff missing from the batch are end-dated (leavers),
    unless they would be more than the configured share: then nothing changes (409)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    records: list[dict[str, Any]]
    if content_type == "text/csv":
        if mode is None:
            raise ValidationFailed(
                "A CSV batch says its mode in the query.",
                invalid_params=[("mode", "Required for CSV: upsert or fullSnapshot.")],
            )
        records = parse_staff_csv(body, MAX_BATCH_RECORDS)
    elif content_type == "application/json":
        envelope = _json_envelope(body)
        mode, organisation = envelope.mode, envelope.organisation
        allow_mass_leavers = allow_mass_leavers or envelope.allow_mass_leavers
        records = envelope.records
    else:
        raise UnsupportedMediaType("Send application/json or text/csv.")
    return await batches.apply_staff_batch(
        session,
        caller,
        request.app.state.settings,
        mode=mode,
        organisation=organisation,
        allow_mass_leavers=allow_mass_leavers,
        records=records,
    )


def _json_envelope(body: bytes) -> StaffBatchIn:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None
    records = document.get("records") if isinstance(document, dict) else None
    if isinstance(records, list) and len(records) > MAX_BATCH_RECORDS:
        raise PayloadTooLarge(f"A batch holds at most {MAX_BATCH_RECORDS} records.")
    try:
        return StaffBatchIn.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(
            "The batch is not valid.",
            invalid_params=[(error_location(e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None
