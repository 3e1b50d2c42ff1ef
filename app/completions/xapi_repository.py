"""xAPI statement writes and reads: one statement per step for a whole request.

A query also answers the statements whose StatementRef names a statement that matches. So
that such a query reads an index in order (flat as the store grows) rather than checking each
statement that names another, the filter keys of the target (its agents, activities, verb and
registration) are copied to the statement that names it (``xapi_statement_ref_keys``) as soon
as both are stored, whichever came first. On PostgreSQL two requests storing the two at the
same moment would not see each other: advisory locks make one wait for the other (see
``lock_references``).
"""

import hashlib
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    exists,
    func,
    or_,
    select,
    text,
    union,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.completions.xapi_multipart import AttachmentPart
from app.core.bulk import (
    BuiltOnce,
    column_in,
    dialect_insert,
    execute_columns,
    in_parameter,
    insert_rows,
    is_postgresql,
)
from app.models import (
    Completion,
    StaffMember,
    XapiAttachment,
    XapiStatement,
    XapiStatementLink,
    XapiStatementRefKey,
)

# Advisory locks (PostgreSQL) on statement ids, hashed into this many buckets; from this many
# ids a request locks every bucket without hashing them.
_REFERENCE_LOCK_CLASS = 0x49515403
_REFERENCE_BUCKETS = 256
_ALL_REFERENCE_BUCKETS_FROM = 2048


@dataclass(frozen=True)
class Reader:
    """Whose statements a caller may read: all (``organisations`` None), or those it sent and
    those whose completion names staff of its organisations."""

    client_id: str
    organisations: Set[str] | None


@dataclass(frozen=True)
class StatementFilter:
    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    ascending: bool = False
    after: int | None = None  # the last row of the previous page (``more``)


class StatementRow(NamedTuple):
    """A statement to store: xapi_statements' columns (``statement`` is the document as this
    LRS answers it)."""

    statement_id: str
    client_id: str
    stored_at: datetime
    verb_id: str
    registration: str | None
    voided: bool
    voids: str | None
    statement_ref: str | None
    content_hash: str
    statement: dict[str, Any]


class StatementLink(NamedTuple):
    """An agent or activity a stored statement names (``direct``: not only in its context or
    a SubStatement), for the statement API's filters."""

    statement_pk: int
    kind: str  # "agent" or "activity"
    key: str
    direct: bool


@dataclass(frozen=True)
class StoredStatement:
    pk: int
    statement: dict[str, Any]
    stored_at: datetime


_INSERT_NEW = BuiltOnce(
    lambda dialect: (
        dialect_insert(dialect, XapiStatement.__table__)
        .on_conflict_do_nothing(index_elements=["statement_id"])
        .returning(XapiStatement.id, XapiStatement.statement_id)
    )
)


async def insert_statements(session: AsyncSession, rows: Sequence[StatementRow]) -> dict[str, int]:
    """Inserts the statements whose id is new; their row ids by statement id. One already
    stored (or being stored by a concurrent transaction) is skipped: read it back to compare."""
    if not rows:
        return {}
    # One INSERT ... SELECT unnest on PostgreSQL: less CPU than multi-row VALUES or
    # executemany (measured in bench/README.md).
    result = await insert_rows(
        session,
        XapiStatement.__table__,
        [row._asdict() for row in rows],
        statement=_INSERT_NEW(session),
    )
    return {statement_id: pk for pk, statement_id in result.all()}


async def insert_links(session: AsyncSession, links: Sequence[StatementLink]) -> None:
    await insert_rows(session, XapiStatementLink.__table__, [link._asdict() for link in links])


def _reference_bucket(statement_id: str) -> int:
    digest = hashlib.blake2b(statement_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % _REFERENCE_BUCKETS


async def lock_references(
    session: AsyncSession, statement_ids: Sequence[str], missing_targets: Sequence[str]
) -> None:
    """Before storing these statements (PostgreSQL): the lock of each one's bucket, shared,
    and of each target named by StatementRef and not stored yet, exclusive; until commit.

    A target being stored by another request at that moment holds its bucket shared, so
    the request naming it waits for that commit and then finds it; or the target's request
    waits for the naming one's commit, and then finds the statement naming it. Buckets are
    taken in one increasing order, whatever their mode, so no two requests wait for each other."""
    if not is_postgresql(session) or not statement_ids:
        return
    exclusive = {_reference_bucket(i) for i in missing_targets}
    if len(statement_ids) >= _ALL_REFERENCE_BUCKETS_FROM:
        buckets = set(range(_REFERENCE_BUCKETS))
    else:
        buckets = {_reference_bucket(i) for i in statement_ids}
    # All in bucket order, whatever their mode (one statement per run of one mode): taken in
    # two passes, exclusive then shared, two requests could each hold what the other waits for.
    runs: list[tuple[bool, list[int]]] = []
    for bucket in sorted(buckets | exclusive):
        is_exclusive = bucket in exclusive
        if not runs or runs[-1][0] != is_exclusive:
            runs.append((is_exclusive, []))
        runs[-1][1].append(bucket)
    for is_exclusive, run in runs:
        function = "pg_advisory_xact_lock" if is_exclusive else "pg_advisory_xact_lock_shared"
        await session.execute(
            text(
                f"SELECT {function}(CAST(:lock_class AS integer), bucket) "  # noqa: S608
                "FROM unnest(CAST(:buckets AS integer[])) AS bucket ORDER BY bucket"
            ).bindparams(lock_class=_REFERENCE_LOCK_CLASS, buckets=run)
        )


_NAMED = BuiltOnce(
    lambda dialect: select(XapiStatement.statement_id, XapiStatement.voids.is_not(None)).where(
        in_parameter(dialect, XapiStatement.statement_id, "ids")
    )
)


async def named_statements(session: AsyncSession, statement_ids: Sequence[str]) -> dict[str, bool]:
    """Those of these statement ids that are stored (voided or not): whether each is a
    voiding statement."""
    if not statement_ids:
        return {}
    rows = await execute_columns(session, _NAMED(session), {"ids": list(statement_ids)})
    return {statement_id: voiding for statement_id, voiding in rows.all()}


def _pairs_query(dialect: str) -> Any:
    """(statement naming another, the one it names, its verb and registration) for those
    naming one of the statement ids ``ids`` (through the index of statement_ref) and those
    among the row ids ``pks``."""
    referring, target = aliased(XapiStatement), aliased(XapiStatement)
    pair = select(referring.id, target.id, target.verb_id, target.registration).join(
        target, target.statement_id == referring.statement_ref
    )
    return union(
        pair.where(
            referring.statement_ref.is_not(None),  # so that its partial index is read
            in_parameter(dialect, referring.statement_ref, "ids"),
        ),
        pair.where(in_parameter(dialect, referring.id, "pks")),
    )


_PAIRS = BuiltOnce(_pairs_query)
_LINKS_OF = BuiltOnce(
    lambda dialect: select(
        XapiStatementLink.statement_pk,
        XapiStatementLink.kind,
        XapiStatementLink.key,
        XapiStatementLink.direct,
    ).where(in_parameter(dialect, XapiStatementLink.statement_pk, "pks"))
)


async def copy_reference_keys(
    session: AsyncSession, inserted: Mapping[str, int], naming: Set[str]
) -> None:
    """Copies the filter keys of each target to the statement naming it by StatementRef, for
    every pair the newly ``inserted`` statements (row ids by statement id; ``naming``: those
    of them with a StatementRef) make, as either side; their links must be stored already.
    One statement when they make none."""
    if not inserted:
        return
    pairs = await execute_columns(
        session, _PAIRS(session), {"ids": list(inserted), "pks": [inserted[i] for i in naming]}
    )
    targets: dict[int, list[int]] = {}
    rows = []
    for statement_pk, target_pk, verb_id, registration in pairs.all():
        targets.setdefault(target_pk, []).append(statement_pk)
        rows.append({"statement_pk": statement_pk, "kind": "verb", "key": verb_id, "direct": True})
        if registration is not None:
            rows.append(
                {"statement_pk": statement_pk, "kind": "registration", "key": registration,
                 "direct": True}
            )  # fmt: skip
    if not targets:
        return
    links = await execute_columns(session, _LINKS_OF(session), {"pks": list(targets)})
    for target_pk, kind, key, direct in links.all():
        rows.extend(
            {"statement_pk": statement_pk, "kind": kind, "key": key, "direct": direct}
            for statement_pk in targets[target_pk]
        )
    await insert_rows(session, XapiStatementRefKey.__table__, rows)


_INSERT_ATTACHMENT = BuiltOnce(
    lambda dialect: dialect_insert(dialect, XapiAttachment.__table__).on_conflict_do_nothing(
        index_elements=["sha2"]
    )
)


async def insert_attachments(
    session: AsyncSession, attachments: Sequence[AttachmentPart], now: datetime
) -> None:
    """Stores the raw data of attachments not stored before (one row per sha2)."""
    if attachments:
        rows = [
            {
                "sha2": a.sha2,
                "content_type": a.content_type[:255],
                "length": len(a.content),
                "content": a.content,
                "stored_at": now,
            }
            for a in attachments
        ]
        await session.execute(_INSERT_ATTACHMENT(session), rows)


async def attachments(session: AsyncSession, hashes: Sequence[str]) -> list[AttachmentPart]:
    """The stored attachments with these sha2s (lower case), in that order."""
    if not hashes:
        return []
    rows = await session.execute(
        select(XapiAttachment.sha2, XapiAttachment.content_type, XapiAttachment.content).where(
            column_in(session, XapiAttachment.sha2, hashes)
        )
    )
    found = {row.sha2: AttachmentPart(row.sha2, row.content_type, row.content) for row in rows}
    return [found[h] for h in hashes if h in found]


async def content_hashes(session: AsyncSession, statement_ids: Sequence[str]) -> dict[str, str]:
    if not statement_ids:
        return {}
    rows = await session.execute(
        select(XapiStatement.statement_id, XapiStatement.content_hash).where(
            column_in(session, XapiStatement.statement_id, statement_ids)
        )
    )
    return {statement_id: content_hash for statement_id, content_hash in rows.all()}


async def void(
    session: AsyncSession, statement_ids: Sequence[str], *, sent_by: str | None
) -> list[tuple[str, str]]:
    """Marks these statements voided (not voiding statements, and only those ``sent_by``
    sent, when given); (statement id, sender) of each one voided now."""
    if not statement_ids:
        return []
    query = update(XapiStatement).where(
        column_in(session, XapiStatement.statement_id, statement_ids),
        XapiStatement.voids.is_(None),
        XapiStatement.voided.is_(False),
    )
    if sent_by is not None:
        query = query.where(XapiStatement.client_id == sent_by)
    result = await session.execute(
        query.values(voided=True).returning(XapiStatement.statement_id, XapiStatement.client_id)
    )
    return [(statement_id, client_id) for statement_id, client_id in result.all()]


def _readable(reader: Reader, statements: Any = XapiStatement) -> ColumnElement[bool] | None:
    """Which of ``statements`` (the table or an alias of it) the reader may read; None: all.
    (Its client id and organisations may be bound parameters: ``_BOUND_READER``.)"""
    if reader.organisations is None:
        return None
    organisations = (
        reader.organisations
        if isinstance(reader.organisations, BindParameter)
        else sorted(reader.organisations)
    )
    completion_seen = exists().where(
        Completion.client_id == statements.client_id,
        Completion.external_id == statements.statement_id,
        Completion.match_status == "matched",
        StaffMember.id == Completion.staff_id,
        StaffMember.organisation_ods_code.in_(organisations),
    )
    return or_(statements.client_id == reader.client_id, completion_seen)


def _stored(row: Any) -> StoredStatement:
    return StoredStatement(pk=row.id, statement=row.statement, stored_at=row.stored_at)


_COLUMNS = (XapiStatement.id, XapiStatement.statement, XapiStatement.stored_at)


async def get_statement(
    session: AsyncSession, reader: Reader, statement_id: str, *, voided: bool
) -> StoredStatement | None:
    """The statement with this id if the reader may read it: one not voided, or (``voided``)
    one voided."""
    query = select(*_COLUMNS).where(
        XapiStatement.statement_id == statement_id, XapiStatement.voided.is_(voided)
    )
    readable = _readable(reader)
    if readable is not None:
        query = query.where(readable)
    row = (await session.execute(query)).first()
    return _stored(row) if row is not None else None


def _matching(statements: Any, found: StatementFilter) -> list[ColumnElement[bool]]:
    """The conditions of the agent, verb, activity and registration filters, on ``statements``
    (the table or an alias of it)."""
    conditions: list[ColumnElement[bool]] = []
    for kind, key, related in (
        ("agent", found.agent, found.related_agents),
        ("activity", found.activity, found.related_activities),
    ):
        if key is not None:
            link = select(XapiStatementLink.statement_pk).where(
                XapiStatementLink.kind == kind, XapiStatementLink.key == key
            )
            if not related:
                link = link.where(XapiStatementLink.direct.is_(True))
            conditions.append(statements.id.in_(link))
    if found.verb is not None:
        conditions.append(statements.verb_id == found.verb)
    if found.registration is not None:
        conditions.append(statements.registration == found.registration)
    return conditions


async def find_statements(
    session: AsyncSession, reader: Reader, found: StatementFilter, limit: int
) -> list[StoredStatement]:
    """Statements not voided that match, newest stored first (or oldest, ``ascending``), up to
    ``limit`` + 1 (the one more says whether there is a next page). A statement whose
    StatementRef names a statement that matches (voided or not) matches too, as xAPI says."""
    query, values = _statements_query_of_shape(reader, found, limit)
    rows = await session.execute(query, values)
    return [_stored(row) for row in rows.all()]


# The filter values a query takes as bound parameters, by name.
_VALUES = ("agent", "verb", "activity", "registration", "since", "until", "after")
_BOUND_READER = Reader(
    client_id=cast(str, bindparam("reader_client_id")),
    organisations=cast(Set[str], bindparam("reader_organisations", expanding=True)),
)
_QUERIES: dict[tuple[Any, ...], Select[Any]] = {}


def _statements_query_of_shape(
    reader: Reader, found: StatementFilter, limit: int
) -> tuple[Select[Any], dict[str, Any]]:
    """``statements_query`` built once for each shape of query (which filters are given, the
    flags, whether the reader is restricted) with bound parameters, and its values: building
    it cost a quarter of a page's CPU (bench/README.md)."""
    given = tuple(getattr(found, name) is not None for name in _VALUES)
    restricted = reader.organisations is not None
    shape = (given, found.related_agents, found.related_activities, found.ascending, restricted)
    query = _QUERIES.get(shape)
    if query is None:
        bound = StatementFilter(
            **{
                name: cast(Any, bindparam(name))
                for name, is_given in zip(_VALUES, given, strict=True)
                if is_given
            },
            related_agents=found.related_agents,
            related_activities=found.related_activities,
            ascending=found.ascending,
        )
        query = _statements_query(
            _BOUND_READER if restricted else reader, bound, bindparam("page_size", type_=Integer())
        )
        _QUERIES[shape] = query
    values: dict[str, Any] = {
        name: getattr(found, name) for name in _VALUES if getattr(found, name) is not None
    }
    values["page_size"] = limit + 1
    if restricted:
        values["reader_client_id"] = reader.client_id
        values["reader_organisations"] = sorted(reader.organisations or ())
    return query, values


def _referring(statements: Any, found: StatementFilter) -> list[ColumnElement[bool]]:
    """The same conditions on the target that ``statements`` (an alias of the table) name by
    StatementRef: on the keys copied from it."""
    conditions: list[ColumnElement[bool]] = []
    for kind, key, related in (
        ("agent", found.agent, found.related_agents),
        ("activity", found.activity, found.related_activities),
        ("verb", found.verb, True),
        ("registration", found.registration, True),
    ):
        if key is not None:
            keys = select(XapiStatementRefKey.statement_pk).where(
                XapiStatementRefKey.kind == kind, XapiStatementRefKey.key == key
            )
            if not related:
                keys = keys.where(XapiStatementRefKey.direct.is_(True))
            conditions.append(statements.id.in_(keys))
    return conditions


def statements_query(reader: Reader, found: StatementFilter, limit: int) -> Select[Any]:
    """The query ``find_statements`` runs (bench/xapi_statements.py EXPLAINs it).

    With filters, the statements that match and those whose StatementRef names one that
    matches are two branches, each read in order from an index and cut to the page alone:
    an OR of the two would keep the planner from reading either through its index."""
    return _statements_query(reader, found, limit + 1)


def _statements_query(reader: Reader, found: StatementFilter, rows: Any) -> Select[Any]:
    """``statements_query`` reading up to ``rows`` (a number or a bound parameter)."""
    matching = _matching(XapiStatement, found)
    if not matching:
        return _page(select(*_COLUMNS), XapiStatement, reader, found, rows)
    referring = aliased(XapiStatement)
    direct = _page(select(XapiStatement.id).where(*matching), XapiStatement, reader, found, rows)
    by_reference = _page(
        select(referring.id).where(*_referring(referring, found)), referring, reader, found, rows
    )
    # Wrapped, as SQLite takes no ORDER BY or LIMIT in the members of a UNION.
    pages = [page.subquery() for page in (direct, by_reference)]
    both = union_all(*(select(page.c.id) for page in pages))
    return _page(select(*_COLUMNS).where(XapiStatement.id.in_(both)), None, reader, found, rows)


def _page(
    query: Select[Any],
    statements: Any,
    reader: Reader,
    found: StatementFilter,
    rows: Any,
) -> Select[Any]:
    """``query`` cut to the page: on ``statements`` (the table or an alias of it) the
    statements not voided that the reader may read, stored since/until, after the previous
    page; ordered by id. ``statements`` None: the page of rows already so chosen."""
    table = XapiStatement if statements is None else statements
    if statements is not None:
        query = query.where(statements.voided.is_(False))
        readable = _readable(reader, statements)
        if readable is not None:
            query = query.where(readable)
        if found.since is not None:
            query = query.where(statements.stored_at > found.since)
        if found.until is not None:
            query = query.where(statements.stored_at <= found.until)
        if found.after is not None:
            query = query.where(
                statements.id > found.after if found.ascending else statements.id < found.after
            )
    order = table.id.asc() if found.ascending else table.id.desc()
    return query.order_by(order).limit(rows)


async def last_stored(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(XapiStatement.stored_at)))


__all__ = [
    "Reader",
    "StatementFilter",
    "StatementLink",
    "StatementRow",
    "StoredStatement",
    "attachments",
    "content_hashes",
    "copy_reference_keys",
    "find_statements",
    "get_statement",
    "insert_attachments",
    "insert_links",
    "insert_statements",
    "lock_references",
    "named_statements",
    "statements_query",
    "void",
]


async def statements_naming_activity(
    session: AsyncSession, reader: Reader, activity_id: str, limit: int
) -> list[dict[str, Any]]:
    """The latest ``limit`` statements (not voided) the reader may read that name this
    activity anywhere, oldest first."""
    query = (
        select(XapiStatement.statement)
        .join(XapiStatementLink, XapiStatementLink.statement_pk == XapiStatement.id)
        .where(
            XapiStatementLink.kind == "activity",
            XapiStatementLink.key == activity_id,
            XapiStatement.voided.is_(False),
        )
        .order_by(XapiStatement.id.desc())
        .limit(limit)
    )
    readable = _readable(reader)
    if readable is not None:
        query = query.where(readable)
    rows = list(await session.scalars(query))
    return rows[::-1]
