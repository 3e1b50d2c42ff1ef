"""/staffSnapshots: a full snapshot sent in several batches, then completed."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import AUTHENTICATED, problem_responses
from app.models import StaffSnapshot
from app.staff import snapshots
from app.staff.schemas import StaffSnapshotIn, StaffSnapshotRead

router = APIRouter(route_class=SessionRoute)  # tagged "Staff" by the staff router that includes it

SnapshotId = Annotated[
    int, Path(alias="snapshotId", ge=1, le=2**63 - 1, description="Snapshot id.", examples=[12])
]


def _read(snapshot: StaffSnapshot) -> StaffSnapshotRead:
    return StaffSnapshotRead(
        id=snapshot.id,
        organisation=snapshot.organisation_ods_code,
        status=snapshots.shown_status(snapshot),
        batches=snapshot.batches,
        received=snapshot.received,
        end_dated=snapshot.end_dated,
        created_at=snapshot.created_at,
        completed_at=snapshot.completed_at,
    )


@router.post(
    "/staffSnapshots",
    summary="Open a full snapshot sent in several batches",
    status_code=201,
    response_model=StaffSnapshotRead,
    responses={
        201: {"headers": {"Location": {"schema": {"type": "string", "maxLength": 2048}}}},
        **problem_responses(*AUTHENTICATED, 404, 409, 413, 422),
    },
)
async def open_staff_snapshot(
    body: StaffSnapshotIn,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_WRITE)],
) -> StaffSnapshotRead:
    """For an organisation with more staff than one batch holds (10,000 records). Send its
    staff as `fullSnapshot` batches naming this snapshot (`snapshot` in the JSON body, or the
    `snapshot` query parameter with CSV): each is stored as it comes and end-dates nobody.
    Then complete it, within 24 hours of opening it. Only the client that opened it sees it
    (404 for others). One snapshot of an organisation can be open at a time: 409, naming it
    (`openSnapshot`), while another is. A snapshot takes at most the configured number of
    batches (default 100); one more is a 409."""
    snapshot = await snapshots.open_snapshot(session, caller, body.organisation)
    response.headers["Location"] = str(
        request.url_for("get_staff_snapshot", snapshotId=snapshot.id)
    )
    return _read(snapshot)


@router.get(
    "/staffSnapshots/{snapshotId}",
    summary="Get a full snapshot sent in several batches",
    response_model=StaffSnapshotRead,
    responses=problem_responses(*AUTHENTICATED, 404, 422),
)
async def get_staff_snapshot(
    snapshot_id: SnapshotId,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_WRITE)],
) -> StaffSnapshotRead:
    """How many batches and records it has had, and, once completed, how many people it
    end-dated."""
    return _read(await snapshots.get_snapshot(session, caller, snapshot_id, action="read"))


@router.post(
    "/staffSnapshots/{snapshotId}/completion",
    summary="Complete a full snapshot sent in several batches",
    response_model=StaffSnapshotRead,
    responses=problem_responses(*AUTHENTICATED, 404, 409, 422),
)
async def complete_staff_snapshot(
    snapshot_id: SnapshotId,
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.STAFF_WRITE)],
    allow_mass_leavers: Annotated[
        bool,
        Query(
            alias="allowMassLeavers",
            description="Let it end-date more than the configured share (default 20%) of the "
            "organisation's active staff.",
        ),
    ] = False,
) -> StaffSnapshotRead:
    """End-dates the organisation's active staff that none of the snapshot's batches named
    (leavers, never deleted). Staff created or changed since the snapshot was opened are never
    taken for leavers. When the leavers would be more than the configured share of the active
    staff, nothing changes and the answer is 409 saying how many: the snapshot stays open, to
    take the batches that are missing or to be completed with `allowMassLeavers=true`. 409 too
    for a snapshot that has had no batch, or was opened more than 24 hours ago. Completing a
    completed snapshot again answers it as it is (a retry changes nothing); it takes no more
    batches (409)."""
    snapshot = await snapshots.complete_snapshot(
        session,
        caller,
        request.app.state.settings,
        snapshot_id,
        allow_mass_leavers=allow_mass_leavers,
    )
    return _read(snapshot)
