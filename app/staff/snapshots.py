"""Full snapshots sent in several batches: an organisation can have more staff than one batch
of 10,000 records holds (Betsi Cadwaladr has about 19,000).

Open one for an organisation, send its staff as ``fullSnapshot`` batches that name it, then
complete it: the organisation's active staff that none of its batches named are end-dated,
under the same guard as a full snapshot in one batch (more than the configured share refused
with 409, nothing changed, the snapshot still open). It describes the staff as they were when
it was opened: anyone HR created or changed since then is never taken for a leaver. A snapshot
is its client's own (others get 404), takes batches and its completion for 24 hours, and its
batches and completion take its row's lock, so they queue. Completing it again answers what
the first completion did. One snapshot of an organisation is open at a time (a partial unique
index), and one takes at most ``IQT_SNAPSHOT_MAX_BATCHES`` batches.
"""

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.core.bulk import BuiltOnce, dialect_insert, insert_rows
from app.core.clock import utcnow
from app.core.problems import Conflict, NotFound
from app.core.settings import Settings
from app.models import StaffSnapshot, StaffSnapshotMember
from app.staff import repository, writes

OPEN, COMPLETED, EXPIRED = "open", "completed", "expired"
OPEN_FOR = timedelta(hours=24)
_LONGEST_NUMBER = 30  # as staff_members.employee_number: a longer one names nobody


async def open_snapshot(session: AsyncSession, caller: Caller, organisation: str) -> StaffSnapshot:
    """A new open snapshot of the organisation; 409 naming the one already open (a partial
    unique index holds it, so of concurrent opens one succeeds and the others wait and fail).
    One left open past its 24 hours is marked expired first: it holds the organisation no
    longer."""
    caller.note_audit("create", "staffSnapshot", None, organisation)
    known = organisation in await repository.organisation_codes(session)
    if not known or not caller.may_access(organisation):
        raise NotFound(f"No organisation {organisation}.")
    now = utcnow()
    await session.execute(
        update(StaffSnapshot)
        .where(
            StaffSnapshot.organisation_ods_code == organisation,
            StaffSnapshot.status == OPEN,
            StaffSnapshot.created_at < now - OPEN_FOR,
        )
        .values(status=EXPIRED, updated_at=now)
    )
    row = {
        "organisation_ods_code": organisation,
        "client_id": caller.client_id,
        "status": OPEN,
        "batches": 0,
        "received": 0,
        "created_at": now,
        "updated_at": now,
    }
    snapshot_id = await session.scalar(_OPEN(session).values(row))
    if snapshot_id is None:
        raise _already_open(await _open_snapshot_of(session, organisation), organisation)
    snapshot = await session.get(StaffSnapshot, snapshot_id)
    assert snapshot is not None
    return snapshot


_OPEN = BuiltOnce(
    lambda dialect: (
        dialect_insert(dialect, StaffSnapshot.__table__)
        .on_conflict_do_nothing(
            index_elements=["organisation_ods_code"], index_where=text("status = 'open'")
        )
        .returning(StaffSnapshot.__table__.c.id)
    )
)


async def _open_snapshot_of(session: AsyncSession, organisation: str) -> StaffSnapshot | None:
    return await session.scalar(
        select(StaffSnapshot).where(
            StaffSnapshot.organisation_ods_code == organisation, StaffSnapshot.status == OPEN
        )
    )


def _already_open(snapshot: StaffSnapshot | None, organisation: str) -> Conflict:
    if snapshot is None:  # completed between the two statements: rare, and worth a retry
        return Conflict(f"A full snapshot of {organisation} was open a moment ago: try again.")
    return Conflict(
        f"Staff snapshot {snapshot.id} of {organisation} is open (since "
        f"{snapshot.created_at.isoformat()}): send its batches and complete it, or wait until "
        f"it expires {OPEN_FOR.total_seconds() / 3600:.0f} hours after it was opened. Only "
        "one full snapshot of an organisation can be open at a time.",
        extensions={"openSnapshot": snapshot.id, "snapshotStatus": OPEN},
    )


def shown_status(snapshot: StaffSnapshot) -> str:
    """Its status, ``expired`` for one still open past its 24 hours."""
    if snapshot.status == OPEN and utcnow() - snapshot.created_at > OPEN_FOR:
        return EXPIRED
    return snapshot.status


async def get_snapshot(
    session: AsyncSession, caller: Caller, snapshot_id: int, *, action: str, lock: bool = False
) -> StaffSnapshot:
    """The caller's own snapshot (404 for anyone else's); ``lock``: FOR UPDATE."""
    query = select(StaffSnapshot).where(StaffSnapshot.id == snapshot_id)
    if lock:
        query = query.with_for_update()
    snapshot = await session.scalar(query)
    visible = (
        snapshot is not None
        and snapshot.client_id == caller.client_id
        and caller.may_access(snapshot.organisation_ods_code)
    )
    organisation = snapshot.organisation_ods_code if snapshot is not None and visible else None
    caller.note_audit(action, "staffSnapshot", str(snapshot_id), organisation)
    if snapshot is None or not visible:
        raise NotFound(f"No staff snapshot {snapshot_id}.")
    return snapshot


def refuse_unless_open(snapshot: StaffSnapshot) -> None:
    """409 for a snapshot that is completed, or was opened too long ago to be trusted."""
    if snapshot.status == EXPIRED or shown_status(snapshot) == EXPIRED:
        raise Conflict(
            f"Staff snapshot {snapshot.id} was opened at {snapshot.created_at.isoformat()}, "
            f"more than {OPEN_FOR.total_seconds() / 3600:.0f} hours ago: open a new one and "
            "send its batches again.",
            extensions={"snapshotStatus": EXPIRED},
        )
    if snapshot.status != OPEN:
        raise Conflict(
            f"Staff snapshot {snapshot.id} was completed at "
            f"{snapshot.completed_at.isoformat() if snapshot.completed_at else 'an earlier time'}"
            ": open a new one to send another full snapshot.",
            extensions={"snapshotStatus": snapshot.status},
        )


def refuse_past_max_batches(snapshot: StaffSnapshot, settings: Settings) -> None:
    """409 for a batch beyond IQT_SNAPSHOT_MAX_BATCHES: what a snapshot holds is bounded."""
    if snapshot.batches >= settings.snapshot_max_batches:
        raise Conflict(
            f"Staff snapshot {snapshot.id} has had {snapshot.batches} batches, as many as a "
            f"snapshot may take ({settings.snapshot_max_batches}): complete it, or open a new "
            "one and send the organisation's staff in fewer, larger batches.",
            extensions={
                "snapshotStatus": snapshot.status,
                "maxBatches": settings.snapshot_max_batches,
            },
        )


async def note_batch(
    session: AsyncSession, snapshot: StaffSnapshot, employee_numbers: Iterable[str], received: int
) -> None:
    """Remembers the employee numbers one of the snapshot's batches named."""
    numbers = sorted({n for n in employee_numbers if 0 < len(n) <= _LONGEST_NUMBER})
    if numbers:
        await insert_rows(
            session,
            StaffSnapshotMember.__table__,
            [{"snapshot_id": snapshot.id, "employee_number": n} for n in numbers],
            statement=_REMEMBER(session),
        )
    snapshot.batches += 1
    snapshot.received += received
    await session.flush()


_REMEMBER = BuiltOnce(
    lambda dialect: dialect_insert(dialect, StaffSnapshotMember.__table__).on_conflict_do_nothing()
)


async def complete_snapshot(
    session: AsyncSession,
    caller: Caller,
    settings: Settings,
    snapshot_id: int,
    *,
    allow_mass_leavers: bool,
) -> StaffSnapshot:
    """End-dates the organisation's active staff that none of the snapshot's batches named
    and nobody has written since it was opened. Completing it again changes nothing."""
    snapshot = await get_snapshot(session, caller, snapshot_id, action="complete", lock=True)
    if snapshot.status == COMPLETED:
        return snapshot  # a retry: the answer the completion gave
    refuse_unless_open(snapshot)
    if snapshot.batches == 0:
        raise Conflict(
            f"Staff snapshot {snapshot.id} has had no batches: send them before completing it.",
            extensions={"snapshotStatus": snapshot.status},
        )
    organisation = snapshot.organisation_ods_code
    present = set(
        await session.scalars(
            select(StaffSnapshotMember.employee_number).where(
                StaffSnapshotMember.snapshot_id == snapshot.id
            )
        )
    )
    present |= await repository.written_since(session, organisation, snapshot.created_at)
    leavers = await writes.end_date_absent_staff(
        session,
        caller,
        organisation,
        present,
        allow_mass_leavers=allow_mass_leavers,
        max_share=settings.snapshot_max_leaver_share,
    )
    await writes.write_leavers(session, caller, organisation, leavers)
    await session.execute(
        delete(StaffSnapshotMember).where(StaffSnapshotMember.snapshot_id == snapshot.id)
    )
    snapshot.status, snapshot.end_dated = COMPLETED, len(leavers)
    snapshot.completed_at = utcnow()
    await session.flush()
    return snapshot
