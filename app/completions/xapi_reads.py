"""xAPI statement reads: one by id, or a filtered page with a ``more`` link. A restricted
client reads the statements it sent and those whose completion it can see."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import xapi_repository
from app.completions.xapi_attachments import declared
from app.completions.xapi_multipart import AttachmentPart
from app.completions.xapi_repository import Reader, StatementFilter, StoredStatement
from app.completions.xapi_statements import agent_key, parse_timestamp, statement_uuid
from app.completions.xapi_validation import Malformed
from app.core.problems import BadRequest, NotFound
from app.core.schemas import text_problem

# Statements per page when the client asks for none or more (limit=0 or above).
MAX_PAGE = 500
_FILTERS = {
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "ascending",
}
_ALWAYS = {"format", "attachments"}
PARAMETERS = _FILTERS | _ALWAYS | {"statementId", "voidedStatementId", "more"}
FORMATS = ("exact", "ids", "canonical")
_IDENTIFIERS = ("objectType", "mbox", "mbox_sha1sum", "openid", "account")


@dataclass(frozen=True)
class Page:
    statements: list[dict[str, Any]]
    more: str
    last_stored: datetime | None


def _reader(caller: Caller) -> Reader:
    return Reader(caller.client_id, caller.organisations)


def _refused(name: str, reason: str) -> BadRequest:
    return BadRequest(f"{name}: {reason}", invalid_params=[(name, reason)])


def _format(params: Mapping[str, str]) -> str:
    value = params.get("format", "exact")
    if value not in FORMATS:
        raise _refused("format", "exact, ids or canonical.")
    return value


def _flag(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise _refused(name, "true or false.")
    return value == "true"


async def read_statement(
    session: AsyncSession, caller: Caller, params: Mapping[str, str]
) -> StoredStatement:
    """The statement ``statementId`` names (not voided), or the voided one
    ``voidedStatementId`` names."""
    voided = "voidedStatementId" in params
    name = "voidedStatementId" if voided else "statementId"
    if "statementId" in params and "voidedStatementId" in params:
        raise _refused(name, "Send statementId or voidedStatementId, not both.")
    extra = sorted(set(params) - _ALWAYS - {name})
    if extra:
        raise _refused(name, f"Only format and attachments go with it, not {extra[0]}.")
    _format(params)
    _flag(params, "attachments")
    statement_id = statement_uuid(params[name], "", name)
    caller.note_audit("read", "xapiStatement", statement_id, None)
    found = await xapi_repository.get_statement(
        session, _reader(caller), statement_id, voided=voided
    )
    if found is None:
        raise NotFound(f"No statement {statement_id}.")
    return found


async def find_statements(
    session: AsyncSession, caller: Caller, params: Mapping[str, str], path: str
) -> Page:
    """A page of the statements that match, with the ``more`` link to the next one."""
    unknown = sorted(set(params) - PARAMETERS)
    if unknown:
        raise _refused(unknown[0], "Not a statement query parameter.")
    caller.note_audit("list", "xapiStatement", None, None)
    _format(params)
    _flag(params, "attachments")
    found = _filter(params)
    limit = _limit(params)
    rows = await xapi_repository.find_statements(session, _reader(caller), found, limit)
    more = ""
    if len(rows) > limit:
        rows = rows[:limit]
        following = {k: v for k, v in params.items() if k != "more"}
        following["more"] = str(rows[-1].pk)
        more = f"{path}?{urlencode(following)}"
    return Page(
        statements=[row.statement for row in rows],
        more=more,
        last_stored=max((row.stored_at for row in rows), default=None),
    )


def wants_attachments(params: Mapping[str, str]) -> bool:
    """``attachments=true``: the answer is multipart/mixed, with the attachments' raw data."""
    return _flag(params, "attachments")


async def attachments_of(
    session: AsyncSession, statements: Sequence[dict[str, Any]]
) -> list[AttachmentPart]:
    """The stored raw data of the attachments these statements declare, one copy of each
    (those declared only by a fileUrl have none)."""
    hashes: dict[str, None] = {}
    for statement in statements:
        for _, attachment in declared(statement):
            if isinstance(attachment.get("sha2"), str):
                hashes[attachment["sha2"].lower()] = None
    return await xapi_repository.attachments(session, list(hashes))


def _limit(params: Mapping[str, str]) -> int:
    value = params.get("limit", "0")
    if not value.isdigit():
        raise _refused("limit", "A whole number, 0 or more.")
    limit = int(value)
    return MAX_PAGE if limit == 0 or limit > MAX_PAGE else limit


def _filter(params: Mapping[str, str]) -> StatementFilter:
    agent = None
    if "agent" in params:
        try:
            agent = agent_key(json.loads(params["agent"]))
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            agent = None
        if agent is None:
            raise _refused("agent", "An Agent or identified Group as JSON.")
        if problem := text_problem(agent, "agent"):
            raise _refused(*problem)
    registration = None
    if "registration" in params:
        registration = statement_uuid(params["registration"], "", "registration")
    after = None
    if "more" in params:
        if not params["more"].isdigit():
            raise _refused("more", "As given in the more link.")
        after = int(params["more"])
    return StatementFilter(
        agent=agent,
        verb=params.get("verb"),
        activity=params.get("activity"),
        registration=registration,
        related_agents=_flag(params, "related_agents"),
        related_activities=_flag(params, "related_activities"),
        since=_instant(params, "since"),
        until=_instant(params, "until"),
        ascending=_flag(params, "ascending"),
        after=after,
    )


def _instant(params: Mapping[str, str], name: str) -> datetime | None:
    if name not in params:
        return None
    try:
        return parse_timestamp(params[name], "", name)
    except Malformed as exc:  # not a timestamp, or outside the plausible range: say which
        reason = exc.invalid_params[0][1] if exc.invalid_params else "An ISO 8601 timestamp."
        raise _refused(name, reason) from None


def formatted(statement: dict[str, Any], how: str, languages: Sequence[str] = ()) -> dict[str, Any]:
    """``ids``: agents by their identifier only, activities and verbs by id; ``canonical``:
    each language map cut to the language the client prefers (else its first); ``exact``:
    as stored."""
    if how == "ids":
        return _ids_statement(statement)
    if how == "canonical":
        answered: dict[str, Any] = _canonical(statement, languages)
        return answered
    return statement


def preferred_languages(accept_language: str | None) -> list[str]:
    """The language tags of an Accept-Language header, most preferred first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        if parameters.strip().startswith("q="):
            try:
                weight = float(parameters.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and tag != "*" and weight > 0:
            weighted.append((-weight, position, tag.lower()))
    return [tag for _, _, tag in sorted(weighted)]


_LANGUAGE_MAPS = {"display", "name", "description"}


def _canonical(value: Any, languages: Sequence[str], name: str = "") -> Any:
    if isinstance(value, list):
        return [_canonical(item, languages) for item in value]
    if not isinstance(value, dict) or name == "extensions":
        return value
    if name in _LANGUAGE_MAPS and value and all(isinstance(v, str) for v in value.values()):
        by_tag = {tag.lower(): tag for tag in value}
        for wanted in languages:
            chosen = by_tag.get(wanted) or next(
                (t for low, t in by_tag.items() if low.split("-")[0] == wanted.split("-")[0]),
                None,
            )
            if chosen is not None:
                return {chosen: value[chosen]}
        first = next(iter(value))
        return {first: value[first]}
    return {key: _canonical(item, languages, key) for key, item in value.items()}


def _ids_agent(agent: Any) -> Any:
    if not isinstance(agent, dict):
        return agent
    kept = {k: v for k, v in agent.items() if k in _IDENTIFIERS}
    if "member" in agent and agent_key(agent) is None:
        kept["member"] = [_ids_agent(member) for member in agent["member"]]
    return kept


def _ids_activity(activity: Any) -> Any:
    if not isinstance(activity, dict) or "id" not in activity:
        return activity
    return {"id": activity["id"]}


def _ids_statement(statement: dict[str, Any]) -> dict[str, Any]:
    answered = dict(statement)
    for name in ("actor", "authority"):
        if name in answered:
            answered[name] = _ids_agent(answered[name])
    if isinstance(answered.get("verb"), dict):
        answered["verb"] = {"id": answered["verb"].get("id")}
    target = answered.get("object")
    if isinstance(target, dict):
        object_type = target.get("objectType", "Activity")
        if object_type == "Activity":
            answered["object"] = _ids_activity(target)
        elif object_type in ("Agent", "Group"):
            answered["object"] = _ids_agent(target)
        elif object_type == "SubStatement":
            answered["object"] = _ids_statement(target)
    context = answered.get("context")
    if isinstance(context, dict):
        context = answered["context"] = dict(context)
        for name in ("instructor", "team"):
            if name in context:
                context[name] = _ids_agent(context[name])
        grouped = context.get("contextActivities")
        if isinstance(grouped, dict):
            context["contextActivities"] = {
                name: [_ids_activity(a) for a in listed]
                if isinstance(listed, list)
                else _ids_activity(listed)
                for name, listed in grouped.items()
            }
    return answered
