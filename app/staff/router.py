from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import ValidationError

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.clock import today
from app.core.database import SessionDep, SessionRoute
from app.core.etag import IfMatch, etag_for, etag_header
from app.core.identifiers import ODS_CODE_PATTERN
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.pagination import PageMeta, PageRequest, page_links, page_request
from app.core.problem_handlers import error_location
from app.core.problems import ValidationFailed
from app.core.schemas import IsoDateTime
from app.personal_data.corrections import REASON_HEADER
from app.staff import service
from app.staff.batch_router import router as batch_router
from app.staff.fields import FIELDS
from app.staff.parameters import EmployeeNumberPath
from app.staff.schemas import (
    StaffHistoryPeriod,
    StaffHistoryRead,
    StaffPage,
    StaffPatch,
    StaffPut,
    StaffRead,
)
from app.staff.service import StaffView
from app.staff.snapshot_router import router as snapshot_router

router = APIRouter(route_class=SessionRoute, tags=["Staff"])

ETAG_HEADER = etag_header("the record")
CorrectionReason = Annotated[
    str | None,
    Header(
        alias=REASON_HEADER,
        max_length=500,
        description="Why the names or e-mail are corrected: kept in the rectification trail "
        "that the person's subject access export shows.",
    ),
]


def _read(view: StaffView) -> StaffRead:
    member, on = view.member, today()
    values = {f.name: getattr(member, f.column) for f in FIELDS}
    values["staff_group"] = view.staff_group_name  # stored as its code, answered as its name
    return StaffRead(
        **values,
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
        IsoDateTime | None,
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
        **problem_responses(*AUTHENTICATED, 404, 409, 412, 413, 422, concurrent_change=True),
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
    correction_reason: CorrectionReason = None,
) -> StaffRead:
    """Creates (201) or replaces (200) the record HR holds for this employee number. A PUT
    that changes nothing answers 200 and writes no event or history. Employee numbers are
    unique across all organisations: for a client limited to some, a number held by a record
    outside them answers 409 `conflict` "cannot be used by this client", never saying where or
    whose. 409 `concurrent-change`: another request wrote this person at the same moment; send
    the PUT again."""
    view = await service.put_staff(
        session, caller, employee_number, body, if_match, correction_reason
    )
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
        **problem_responses(*AUTHENTICATED, 404, 412, 413, 422, concurrent_change=True),
    },
)
async def patch_staff_member(
    employee_number: EmployeeNumberPath,
    body: StaffPatch,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_WRITE)],
    if_match: IfMatch = None,
    correction_reason: CorrectionReason = None,
) -> StaffRead:
    """Changes only the fields sent (JSON merge patch: `null` removes an optional field, and
    `boardMember` is then false; the fields every record holds cannot be removed)."""
    changes = body.model_dump(exclude_unset=True, by_alias=True)
    try:
        view = await service.patch_staff(
            session, caller, employee_number, changes, if_match, correction_reason
        )
    except ValidationError as exc:
        raise ValidationFailed(
            "The changed record is not valid.",
            invalid_params=[(error_location(e["loc"]), e["msg"]) for e in exc.errors()],
        ) from None
    response.headers["ETag"] = etag_for(view.member.version)
    return _read(view)


router.include_router(batch_router)
router.include_router(snapshot_router)
