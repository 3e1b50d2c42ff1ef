"""POST /staffBatches: JSON or CSV batches of staff records, with per-record results."""

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.batch_bodies import batch_format, batch_request_body, read_json_batch
from app.core.collector import collections_paused
from app.core.database import SessionDep, SessionRoute
from app.core.identifiers import ODS_CODE_PATTERN
from app.core.openapi import AUTHENTICATED, EXTRA_SCHEMAS, problem_responses
from app.core.problems import ValidationFailed
from app.personal_data.corrections import BATCH_REASON, REASON_HEADER
from app.staff import batches
from app.staff.csv_format import COLUMNS, parse_staff_csv
from app.staff.schemas import (
    MAX_BATCH_RECORDS,
    BatchMode,
    StaffBatch,
    StaffBatchIn,
    StaffBatchRecord,
    StaffBatchResult,
)

router = APIRouter(route_class=SessionRoute)  # tagged "Staff" by the staff router that includes it
EXTRA_SCHEMAS.append(StaffBatch)


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
    responses=problem_responses(*AUTHENTICATED, 404, 409, 413, 415, 422, concurrent_change=True),
    openapi_extra={
        "requestBody": batch_request_body(
            "StaffBatch",
            "employeeNumber,givenName,familyName,organisation,staffGroup,startDate\r\n"
            "10293847,Siân,Llŷr,7A4,03,01/04/2019\r\n",
            _CSV_DESCRIPTION,
        )
    },
)
async def post_staff_batch(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_WRITE)],
    mode: Annotated[
        BatchMode | None,
        Query(
            description="For CSV bodies (text/csv or application/octet-stream): upsert or "
            "fullSnapshot."
        ),
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
    snapshot: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**63 - 1,
            description="With mode fullSnapshot: this batch is one part of the full snapshot "
            "opened with `POST /staffSnapshots` (for CSV bodies; JSON says it in the body).",
        ),
    ] = None,
    correction_reason: Annotated[
        str | None,
        Header(
            alias=REASON_HEADER,
            min_length=1,
            max_length=500,
            description="Why the names or e-mail this batch changes are corrected (JSON or "
            "CSV): kept with each correction in the rectification trail that a person's "
            f'subject access export shows. Without it the reason kept is "{BATCH_REASON}".',
            examples=["ESR name corrections, March 2026"],
        ),
    ] = None,
) -> StaffBatchResult:
    """Up to 10,000 staff records as JSON or CSV. Valid records are stored even when others
    are rejected; each rejected record is listed with its row and reasons. In `fullSnapshot`
    mode the organisation's active staff missing from the batch are end-dated (leavers),
    unless they would be more than the configured share: then nothing changes (409). An
    organisation with more staff than one batch holds sends its full snapshot in several
    batches that name a snapshot (`POST /staffSnapshots`), and completes it once all are in.
    For a client limited to some organisations, a record whose employee number is held by a
    record outside them is rejected as "Cannot be used by this client." (never saying where).
    Each change of a person's names or e-mail is kept in the rectification trail, with the
    `Correction-Reason` header or "HR batch".
    409 `concurrent-change`: another request wrote some of these people at the same moment and
    nothing was stored; send the batch again."""
    body_format = batch_format(request.headers.get("content-type", ""))
    body = await request.body()
    with collections_paused():
        records: Sequence[dict[str, Any] | StaffBatchRecord]
        if body_format == "csv":
            if mode is None:
                raise ValidationFailed(
                    "A CSV batch says its mode in the query.",
                    invalid_params=[("mode", "Required for CSV: upsert or fullSnapshot.")],
                )
            records = parse_staff_csv(body, MAX_BATCH_RECORDS)
        else:
            envelope = read_json_batch(body, StaffBatchIn, MAX_BATCH_RECORDS, checked=StaffBatch)
            mode, organisation = envelope.mode, envelope.organisation
            allow_mass_leavers = allow_mass_leavers or envelope.allow_mass_leavers
            if None not in (envelope.snapshot, snapshot) and envelope.snapshot != snapshot:
                raise ValidationFailed(
                    "The body and the query name different snapshots.",
                    invalid_params=[("snapshot", "Name it once, or the same in both.")],
                )
            snapshot = envelope.snapshot or snapshot
            records = envelope.records
        return await batches.apply_staff_batch(
            session,
            caller,
            request.app.state.settings,
            mode=mode,
            organisation=organisation,
            allow_mass_leavers=allow_mass_leavers,
            records=records,
            snapshot_id=snapshot,
            correction_reason=correction_reason or BATCH_REASON,
        )
