"""Queries for one person's data wherever it is held, and the updates that pseudonymise it."""

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, Text, and_, cast, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from app.models import (
    ApiClient,
    AuditRecord,
    Award,
    Completion,
    Course,
    ErasureRequest,
    Event,
    IdempotencyRecord,
    ImprovementProject,
    IssuedCredential,
    PersonalDataCorrection,
    ProjectReview,
    ProjectTeamMember,
    StaffHistory,
    StaffMember,
    StaffPseudonymisation,
    StaffSnapshotMember,
    UptakePersonDelta,
    XapiDocument,
    XapiStatement,
    XapiStatementLink,
    XapiStatementRefKey,
)
from app.staff.fields import FIELDS, PersonalData

Record = dict[str, Any]

# Audit and event resources named by the person's employee number.
PERSON_RESOURCES = ("staff", "staffAwards", "staffProgress", "personalData")


@dataclass(frozen=True)
class Footprint:
    """The ids by which other tables refer to one person."""

    staff_id: int
    employee_number: str
    work_email_key: str | None
    work_email_sha1: str | None
    completion_ids: list[int]
    award_ids: list[int]
    project_ids: list[int]
    review_ids: list[int]
    # The agent keys (as xapi_statement_links holds them) that identify the person, and the
    # stored xAPI statements that name them or made their completions.
    agent_keys: list[str]
    xapi_statement_ids: list[int]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def record_of(table: Table, row: Any) -> Record:
    """A row as stored, every column under its lowerCamelCase name."""
    return {_camel(column.name): row._mapping[column] for column in table.columns}


async def _records(session: AsyncSession, table: Any, *where: Any, order: Any) -> list[Record]:
    rows = await session.execute(select(table).where(*where).order_by(order))
    return [record_of(table, row) for row in rows]


async def person(
    session: AsyncSession, employee_number: str, *, lock: bool = False
) -> StaffMember | None:
    query = select(StaffMember).where(StaffMember.employee_number == employee_number)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


def _completions_naming(
    staff_id: int, number: str, email_key: str | None, sha1: str | None
) -> ColumnElement[bool]:
    """Completions matched to the person, or sent with one of their identifiers."""
    named = [Completion.staff_id == staff_id, Completion.employee_number == number]
    if email_key is not None:
        named.append(Completion.work_email_key == email_key)
    if sha1 is not None:
        named.append(Completion.email_sha1 == sha1)
    return or_(*named)


async def footprint(session: AsyncSession, member: StaffMember) -> Footprint:
    completion_ids = await session.scalars(
        select(Completion.id)
        .where(
            _completions_naming(
                member.id, member.employee_number, member.work_email_key, member.work_email_sha1
            )
        )
        .order_by(Completion.id)
    )
    award_ids = await session.scalars(
        select(Award.id).where(Award.staff_id == member.id).order_by(Award.id)
    )
    project_ids = list(
        await session.scalars(
            select(ProjectTeamMember.project_id)
            .where(ProjectTeamMember.staff_id == member.id)
            .order_by(ProjectTeamMember.project_id)
        )
    )
    review_filter = [ProjectReview.reviewer_staff_id == member.id]
    if project_ids:
        review_filter.append(ProjectReview.project_id.in_(project_ids))
    review_ids = await session.scalars(
        select(ProjectReview.id).where(or_(*review_filter)).order_by(ProjectReview.id)
    )
    agent_keys = await _agent_keys(session, member)
    return Footprint(
        staff_id=member.id,
        employee_number=member.employee_number,
        work_email_key=member.work_email_key,
        work_email_sha1=member.work_email_sha1,
        completion_ids=list(completion_ids),
        award_ids=list(award_ids),
        project_ids=project_ids,
        review_ids=list(review_ids),
        agent_keys=agent_keys,
        xapi_statement_ids=await _statements_naming(session, agent_keys, list(completion_ids)),
    )


# The homePage of the accounts a pseudonymised person's xAPI agents are given (``.invalid``:
# a name that can never be anyone's real account system).
PSEUDONYMOUS_HOME_PAGE = "https://pseudonymised.iqt.invalid"


def pseudonymous_agent(pseudonym: str) -> dict[str, Any]:
    """What replaces the person wherever a stored xAPI statement names them."""
    return {
        "objectType": "Agent",
        "account": {"homePage": PSEUDONYMOUS_HOME_PAGE, "name": pseudonym},
    }


def account_key(home_page: str, name: str) -> str:
    """An account agent's key, as app.completions.xapi_statements.agent_key spells it."""
    return "account:" + json.dumps([home_page, name], ensure_ascii=False)


async def _agent_keys(session: AsyncSession, member: StaffMember) -> list[str]:
    """The agents that are the person: an mbox of their work e-mail (as HR sent it, or lower
    case), its mbox_sha1sum, an account whose name is their employee number on a client's xAPI
    account homePage (the accounts completions are matched by), and, once pseudonymised, the
    account that replaced them. Exact keys, so each is an index range of the links."""
    keys = {account_key(PSEUDONYMOUS_HOME_PAGE, pseudonym_of(member.id))}
    if member.work_email is not None:
        keys.add(f"mbox:mailto:{member.work_email}")
    if member.work_email_key is not None:
        keys.add(f"mbox:mailto:{member.work_email_key}")
    if member.work_email_sha1 is not None:
        keys.add(f"mbox_sha1sum:{member.work_email_sha1}")
    home_pages = await session.scalars(
        select(ApiClient.xapi_account_home_page)
        .where(ApiClient.xapi_account_home_page.is_not(None))
        .distinct()
    )
    for home_page in home_pages:
        if home_page is None:
            continue
        bare = home_page.rstrip("/")
        for spelling in {home_page, bare, bare + "/"}:
            keys.add(account_key(spelling, member.employee_number))
    return sorted(keys)


def pseudonym_of(staff_id: int) -> str:
    return f"Person {staff_id}"


async def _statements_naming(
    session: AsyncSession, agent_keys: Sequence[str], completion_ids: Sequence[int]
) -> list[int]:
    """Stored statements naming one of the agents (as actor, object, instructor or team
    member), those that made the completions, and those whose StatementRef names one of
    these (a voiding statement, say)."""
    named = select(XapiStatementLink.statement_pk).where(
        XapiStatementLink.kind == "agent", XapiStatementLink.key.in_(agent_keys)
    )
    found = set(await session.scalars(named))
    if completion_ids:
        made = select(XapiStatement.id).join(
            Completion,
            and_(
                Completion.client_id == XapiStatement.client_id,
                Completion.external_id == XapiStatement.statement_id,
            ),
        )
        found.update(
            await session.scalars(
                made.where(Completion.id.in_(completion_ids), Completion.channel == "xapi")
            )
        )
    if found:
        ids = select(XapiStatement.statement_id).where(XapiStatement.id.in_(found))
        found.update(
            await session.scalars(
                select(XapiStatement.id).where(XapiStatement.statement_ref.in_(ids))
            )
        )
    return sorted(found)


def _naming_person(
    table: Any, footprint: Footprint, *, resource_types: Sequence[str] = PERSON_RESOURCES
) -> ColumnElement[bool]:
    """Audit records or events about the person, their completions or their awards."""
    about = [
        and_(
            table.resource_type.in_(resource_types),
            table.resource_id == footprint.employee_number,
        )
    ]
    for resource_type, ids in (
        ("completion", footprint.completion_ids),
        ("award", footprint.award_ids),
    ):
        if ids:
            about.append(
                and_(
                    table.resource_type == resource_type,
                    table.resource_id.in_([str(i) for i in ids]),
                )
            )
    return or_(*about)


async def export_sections(session: AsyncSession, footprint: Footprint) -> dict[str, list[Record]]:
    """Every row held about the person, by the export section that shows it."""
    staff_id = footprint.staff_id
    completions = await session.execute(
        select(Completion, Course.code)
        .outerjoin(Course, Course.id == Completion.course_id)
        .where(Completion.id.in_(footprint.completion_ids))
        .order_by(Completion.id)
    )
    memberships = await session.execute(
        select(ProjectTeamMember.role, ImprovementProject)
        .join(ImprovementProject, ImprovementProject.id == ProjectTeamMember.project_id)
        .where(ProjectTeamMember.staff_id == staff_id)
        .order_by(ProjectTeamMember.project_id)
    )
    return {
        "staff": await _records(
            session, StaffMember.__table__, StaffMember.id == staff_id, order=StaffMember.id
        ),
        "history": await _records(
            session,
            StaffHistory.__table__,
            StaffHistory.staff_id == staff_id,
            order=StaffHistory.valid_from,
        ),
        "completions": [
            {**_orm_record(completion), "courseCode": code} for completion, code in completions
        ],
        "projects": [
            {"role": role, "project": _orm_record(project)} for role, project in memberships
        ],
        "reviewsGiven": await _records(
            session,
            ProjectReview.__table__,
            ProjectReview.reviewer_staff_id == staff_id,
            order=ProjectReview.id,
        ),
        "awards": await _records(
            session, Award.__table__, Award.staff_id == staff_id, order=Award.id
        ),
        "snapshotMemberships": await _records(
            session,
            StaffSnapshotMember.__table__,
            StaffSnapshotMember.employee_number == footprint.employee_number,
            order=StaffSnapshotMember.snapshot_id,
        ),
        "uptakeContributions": await _records(
            session,
            UptakePersonDelta.__table__,
            UptakePersonDelta.staff_id == staff_id,
            order=UptakePersonDelta.day,
        ),
        "corrections": await _records(
            session,
            PersonalDataCorrection.__table__,
            PersonalDataCorrection.staff_id == staff_id,
            order=PersonalDataCorrection.id,
        ),
        "erasureRequests": await _records(
            session,
            ErasureRequest.__table__,
            ErasureRequest.staff_id == staff_id,
            order=ErasureRequest.id,
        ),
        "pseudonymisation": await _records(
            session,
            StaffPseudonymisation.__table__,
            StaffPseudonymisation.staff_id == staff_id,
            order=StaffPseudonymisation.staff_id,
        ),
        "auditRecords": await _records(
            session,
            AuditRecord.__table__,
            _naming_person(AuditRecord, footprint),
            order=AuditRecord.id,
        ),
        "events": await _records(
            session, Event.__table__, _naming_person(Event, footprint), order=Event.id
        ),
        "xapiStatements": await _records(
            session,
            XapiStatement.__table__,
            XapiStatement.id.in_(footprint.xapi_statement_ids),
            order=XapiStatement.id,
        ),
        "credentials": await _records(
            session,
            IssuedCredential.__table__,
            IssuedCredential.award_id.in_(footprint.award_ids),
            order=IssuedCredential.id,
        ),
        "xapiDocuments": [
            {**document, "content": base64.b64encode(document["content"]).decode()}
            for document in await _records(
                session,
                XapiDocument.__table__,
                XapiDocument.agent_key.in_(footprint.agent_keys),
                order=XapiDocument.id,
            )
        ],
    }


def _orm_record(instance: Any) -> Record:
    table = instance.__table__
    return {_camel(c.name): getattr(instance, c.key) for c in table.columns}


# Pseudonymisation: the rows holding free text or documents that may name the person.


@dataclass(frozen=True)
class TextRow:
    """A row's text and document columns that may name the person, by attribute name."""

    model: Any
    id: int
    values: dict[str, Any]


def _text_targets(footprint: Footprint, needles: Sequence[str]) -> list[tuple[Any, Any, list[str]]]:
    project_ids = [str(i) for i in footprint.project_ids]
    return [
        (
            Completion,
            Completion.id.in_(footprint.completion_ids),
            ["match_reason", "retraction_reason"],
        ),
        (Award, Award.id.in_(footprint.award_ids), ["revoked_reason", "evidence"]),
        (
            ImprovementProject,
            ImprovementProject.id.in_(footprint.project_ids),
            [
                "title",
                "area",
                "problem",
                "aim",
                "measures",
                "changes",
                "learning",
                "sustainability_and_spread",
                "links",
            ],
        ),
        (ProjectReview, ProjectReview.id.in_(footprint.review_ids), ["comments"]),
        (
            PersonalDataCorrection,
            PersonalDataCorrection.staff_id == footprint.staff_id,
            ["reason"],
        ),
        (
            ErasureRequest,
            ErasureRequest.staff_id == footprint.staff_id,
            ["note", "override_reason"],
        ),
        (
            Event,
            or_(
                _naming_person(Event, footprint),
                and_(
                    Event.resource_type == "improvementProject",
                    Event.resource_id.in_(project_ids),
                ),
            ),
            ["data"],
        ),
        # Answers kept for Idempotency-Key retries may quote an e-mail or a name.
        (
            IdempotencyRecord,
            or_(
                *(
                    func.lower(cast(IdempotencyRecord.response_body, Text)).contains(
                        n.lower(), autoescape=True
                    )
                    for n in needles
                )
            ),
            ["response_body"],
        ),
    ]


async def texts_naming(
    session: AsyncSession, footprint: Footprint, needles: Sequence[str]
) -> list[TextRow]:
    """Every row whose free text or documents may name the person."""
    found: list[TextRow] = []
    for model, where, columns in _text_targets(footprint, needles):
        rows = await session.execute(
            select(model.id, *(getattr(model, c) for c in columns)).where(where)
        )
        found.extend(
            TextRow(model, row[0], dict(zip(columns, row[1:], strict=True))) for row in rows
        )
    return found


async def rewrite_texts(session: AsyncSession, row: TextRow, values: dict[str, Any]) -> None:
    await session.execute(update(row.model).where(row.model.id == row.id).values(**values))


def pseudonymised_values(pseudonym: str) -> dict[str, str | None]:
    """What pseudonymisation writes over a staff record: every field that identifies or
    describes the person (and the columns computed from it) replaced or cleared; what the
    uptake figures are counted by, and the key, kept."""
    values: dict[str, str | None] = {}
    for f in FIELDS:
        if f.personal in (PersonalData.IDENTIFIES, PersonalData.DESCRIBES):
            values[f.column] = f.pseudonymised(pseudonym)
            values.update(dict.fromkeys(f.derived))
    return values


async def forget_documents(session: AsyncSession, footprint: Footprint) -> None:
    """Deletes the xAPI State and Agent Profile documents kept about the person as an agent:
    a platform's working data (bookmarks, preferences), not evidence of anything."""
    if footprint.agent_keys:
        await session.execute(
            delete(XapiDocument).where(XapiDocument.agent_key.in_(footprint.agent_keys))
        )


async def forget_identifiers(session: AsyncSession, footprint: Footprint, pseudonym: str) -> None:
    """Replaces the person's names and e-mail on their record and their completions."""
    await session.execute(
        update(StaffMember)
        .where(StaffMember.id == footprint.staff_id)
        .values(**pseudonymised_values(pseudonym), version=StaffMember.version + 1)
    )
    if footprint.completion_ids:
        await session.execute(
            update(Completion)
            .where(Completion.id.in_(footprint.completion_ids))
            .values(work_email=None, work_email_key=None, email_sha1=None)
        )


async def statements(session: AsyncSession, footprint: Footprint) -> dict[int, dict[str, Any]]:
    """The stored statements naming the person, by row id."""
    if not footprint.xapi_statement_ids:
        return {}
    rows = await session.execute(
        select(XapiStatement.id, XapiStatement.statement).where(
            XapiStatement.id.in_(footprint.xapi_statement_ids)
        )
    )
    return {pk: statement for pk, statement in rows.all()}


async def rewrite_statements(
    session: AsyncSession,
    footprint: Footprint,
    rewritten: dict[int, dict[str, Any]],
    replaced_keys: frozenset[str],
    key: str,
) -> None:
    """Stores the rewritten statements, and links them to the agent ``key`` that replaced the
    person instead of the agent keys (compared case-folded) that were theirs."""
    for pk, statement in rewritten.items():
        await session.execute(
            update(XapiStatement).where(XapiStatement.id == pk).values(statement=statement)
        )
    if not footprint.xapi_statement_ids:
        return
    # The keys a statement names itself, and those copied from the statement its
    # StatementRef names (which may be theirs when the statement naming it is not).
    for table in (XapiStatementLink, XapiStatementRefKey):
        await _replace_agent_keys(session, table, footprint, replaced_keys, key)


async def _replace_agent_keys(
    session: AsyncSession,
    table: type[XapiStatementLink] | type[XapiStatementRefKey],
    footprint: Footprint,
    replaced_keys: frozenset[str],
    key: str,
) -> None:
    links = await session.execute(
        select(table.statement_pk, table.key, table.direct)
        .where(table.statement_pk.in_(footprint.xapi_statement_ids), table.kind == "agent")
        .order_by(table.statement_pk)
    )
    theirs: dict[int, list[tuple[str, bool]]] = {}
    for pk, old, direct in links.all():
        if old.casefold() in replaced_keys or old == key:
            theirs.setdefault(pk, []).append((old, direct))
    if not theirs:
        return
    # Any link of these statements to one of these keys is one of theirs: one statement.
    await session.execute(
        delete(table).where(
            table.statement_pk.in_(list(theirs)),
            table.kind == "agent",
            table.key.in_(sorted({old for held in theirs.values() for old, _ in held})),
        )
    )
    await session.execute(
        insert(table),
        [
            {
                "statement_pk": pk,
                "kind": "agent",
                "key": key,
                "direct": any(direct for _, direct in old_links),
            }
            for pk, old_links in theirs.items()
        ],
    )


async def is_pseudonymised(session: AsyncSession, staff_id: int) -> bool:
    found = await session.scalar(
        select(StaffPseudonymisation.staff_id).where(StaffPseudonymisation.staff_id == staff_id)
    )
    return found is not None
