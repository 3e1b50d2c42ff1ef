from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.etag import IfMatch, etag_for, etag_header
from app.core.identifiers import ODS_CODE_PATTERN
from app.core.openapi import AUTHENTICATED, problem_responses
from app.core.pagination import PageRequest, build_page, page_request
from app.core.schemas import IsoDateTime
from app.organisations import service
from app.organisations.schemas import (
    OrganisationPage,
    OrganisationPut,
    OrganisationRead,
)

router = APIRouter(route_class=SessionRoute, tags=["Organisations"])

OdsCode = Annotated[
    str,
    Path(alias="odsCode", pattern=ODS_CODE_PATTERN, description="ODS code.", examples=["7A4"]),
]
ETAG_HEADER = etag_header("the resource")


@router.get(
    "/organisations",
    summary="List organisations",
    response_model=OrganisationPage,
    responses=problem_responses(*AUTHENTICATED, 422),
)
async def list_organisations(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.ORGANISATIONS_READ)],
    page: Annotated[PageRequest, page_request("organisations")],
    active: Annotated[bool | None, Query()] = None,
    updated_since: Annotated[
        IsoDateTime | None,
        Query(alias="updatedSince", description="Only those changed at or after (RFC 3339)."),
    ] = None,
) -> OrganisationPage:
    """Organisations visible to this client, ordered by ODS code."""
    result = await service.list_organisations(
        session, caller, page, active=active, updated_since=updated_since
    )
    return build_page(OrganisationPage, OrganisationRead, request, page, result)


@router.get(
    "/organisations/{odsCode}",
    summary="Get an organisation",
    response_model=OrganisationRead,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(*AUTHENTICATED, 404, 422)},
)
async def get_organisation(
    ods_code: OdsCode,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.ORGANISATIONS_READ)],
) -> OrganisationRead:
    """One organisation by ODS code, with its ETag."""
    organisation = await service.get_organisation(session, caller, ods_code)
    response.headers["ETag"] = etag_for(organisation.version)
    return OrganisationRead.model_validate(organisation)


@router.put(
    "/organisations/{odsCode}",
    summary="Create or replace an organisation",
    response_model=OrganisationRead,
    status_code=200,
    responses={
        200: {"description": "Replaced (or unchanged).", "headers": ETAG_HEADER},
        201: {
            "description": "Created.",
            "model": OrganisationRead,
            "headers": {
                **ETAG_HEADER,
                "Location": {"schema": {"type": "string", "maxLength": 2048}},
            },
        },
        **problem_responses(*AUTHENTICATED, 404, 412, 413, 422),
    },
)
async def put_organisation(
    ods_code: OdsCode,
    body: OrganisationPut,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.ORGANISATIONS_WRITE)],
    if_match: IfMatch = None,
) -> OrganisationRead:
    """Creates (201) or replaces (200) an organisation. A stale If-Match answers 412; a PUT that
    changes nothing answers 200 and writes no event."""
    result = await service.put_organisation(session, caller, ods_code, body, if_match)
    response.headers["ETag"] = etag_for(result.organisation.version)
    if result.created:
        response.status_code = 201
        response.headers["Location"] = str(request.url_for("get_organisation", odsCode=ods_code))
    return OrganisationRead.model_validate(result.organisation)
