"""The xAPI document resources: State (``/xapi/activities/state``), Activity Profile
(``/xapi/activities/profile``) and Agent Profile (``/xapi/agents/profile``), xAPI 1.0.3
Communication 2.2-2.7 and 3.1, and 2.0.0 4.1.4 and 4.1.6.

A document is stored as sent, whatever its content type, and belongs to the client that wrote
it: another client names a different document with the same parameters, so it can neither read
nor change nor delete it. POST merges JSON objects (one level deep); ETags (SHA-1 of the
content) and If-Match / If-None-Match guard changes."""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import xapi_document_repository as repository
from app.completions.xapi_document_repository import DocumentScope, StoredDocument
from app.completions.xapi_statements import agent_key, parse_timestamp, statement_uuid
from app.completions.xapi_validation import IRI, Malformed, validate_agent
from app.core.clock import utcnow
from app.core.problems import BadRequest, ConcurrentChange, Conflict, NotFound, PreconditionFailed
from app.core.schemas import text_problem

JSON_MEDIA_TYPE = "application/json"
# Stored for a document sent without a Content-Type.
DEFAULT_MEDIA_TYPE = "application/octet-stream"
RESOURCE = "xapiDocument"
# The longest activity id, agent identifier or document id stored (the columns' size), as the
# contract says; the alternate request syntax carries parameters in its body, past the URL limit.
MAX_PARAMETER = 2000


@dataclass(frozen=True)
class Kind:
    """One document resource: which parameters name its documents."""

    name: str
    id_parameter: str
    activity: bool
    agent: bool
    registration: bool
    # A PUT replacing a document needs If-Match or If-None-Match: a profile's in every
    # version (and 1.0.x wants one on every PUT of a profile), a state's from 2.0 on.
    profile: bool


STATE = Kind("state", "stateId", activity=True, agent=True, registration=True, profile=False)
ACTIVITY_PROFILE = Kind(
    "activityProfile", "profileId", activity=True, agent=False, registration=False, profile=True
)
AGENT_PROFILE = Kind(
    "agentProfile", "profileId", activity=False, agent=True, registration=False, profile=True
)


@dataclass(frozen=True)
class Preconditions:
    """The If-Match and If-None-Match headers of a request (None: not sent)."""

    if_match: str | None = None
    if_none_match: str | None = None

    @property
    def sent(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


@dataclass(frozen=True)
class DocumentIds:
    ids: list[str]
    last_modified: datetime | None


def refused(name: str, reason: str) -> BadRequest:
    return BadRequest(f"{name}: {reason}", invalid_params=[(name, reason)])


def _storable(value: Any, name: str) -> None:
    """400 for text no database column stores (NUL, unpaired surrogates), anywhere in it."""
    if problem := text_problem(value, name):
        raise refused(*problem)


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise refused(name, "Required.")
    if len(value) > MAX_PARAMETER:
        raise refused(name, f"At most {MAX_PARAMETER} characters.")
    _storable(value, name)
    return value


def _json(text: str | bytes) -> Any:
    """JSON as xAPI sends it (no NaN or Infinity); ValueError when it is not, or nests deeper
    than the parser can follow."""

    def not_json(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(text, parse_constant=not_json)
    except RecursionError:
        raise ValueError("nested too deep") from None


def agent_parameter(params: Mapping[str, str], version: str, name: str = "agent") -> Any:
    """The Agent (or identified Group) a parameter names, as sent; 400 naming what is wrong."""
    text = params.get(name)
    if text is None or text == "":
        raise refused(name, "Required.")
    try:
        agent = _json(text)
    except ValueError:
        raise refused(name, "An Agent as JSON.") from None
    _storable(agent, name)
    try:
        validate_agent(agent, name, version)
    except Malformed as exc:
        where, reason = exc.invalid_params[0] if exc.invalid_params else (name, "An Agent.")
        raise refused(where, reason) from None
    key = agent_key(agent)
    if key is None:
        raise refused(name, "An Agent or identified Group (mbox, mbox_sha1sum, openid or account).")
    if len(key) > MAX_PARAMETER:
        raise refused(name, f"Its identifier is longer than {MAX_PARAMETER} characters.")
    return agent


def activity_parameter(params: Mapping[str, str], name: str = "activityId") -> str:
    value = _required(params, name)
    if not IRI.match(value):
        raise refused(name, "An IRI.")
    return value


def _registration(params: Mapping[str, str]) -> str | None:
    if "registration" not in params:
        return None
    try:
        return statement_uuid(params["registration"], "", "registration")
    except Malformed:
        raise refused("registration", "A UUID in standard string form.") from None


def _any_registration(kind: Kind, params: Mapping[str, str]) -> bool:
    """A set of states named without ``registration`` holds those of every registration."""
    return kind.registration and "registration" not in params


def _since(params: Mapping[str, str]) -> datetime | None:
    if "since" not in params:
        return None
    try:
        return parse_timestamp(params["since"], "", "since")
    except Malformed as exc:  # not a timestamp, or outside the plausible range: say which
        reason = exc.invalid_params[0][1] if exc.invalid_params else "An ISO 8601 timestamp."
        raise refused("since", reason) from None


def _scope(kind: Kind, caller: Caller, params: Mapping[str, str], version: str) -> DocumentScope:
    activity = activity_parameter(params) if kind.activity else None
    agent = agent_key(agent_parameter(params, version)) if kind.agent else None
    return DocumentScope(
        kind=kind.name,
        client_id=caller.client_id,
        activity_id=activity,
        agent_key=agent,
        registration=_registration(params) if kind.registration else None,
    )


def _matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match header names this ETag (or is ``*``)."""
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/").strip('"')
        if tag.lower() == etag:
            return True
    return False


def _check(preconditions: Preconditions, current: StoredDocument | None) -> None:
    if preconditions.if_match is not None and (
        current is None or not _matches(preconditions.if_match, current.etag)
    ):
        raise PreconditionFailed(
            "If-Match does not match the document's ETag (or there is no document)."
        )
    if (
        preconditions.if_none_match is not None
        and current is not None
        and _matches(preconditions.if_none_match, current.etag)
    ):
        raise PreconditionFailed("If-None-Match: the document exists (or has that ETag).")


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _json_object(content: bytes, name: str) -> dict[str, Any]:
    try:
        value = _json(content)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise refused(name, "A JSON object, to merge with the stored one.")
    _storable(value, name)
    return value


async def read_document(
    session: AsyncSession, caller: Caller, kind: Kind, params: Mapping[str, str], version: str
) -> StoredDocument:
    """The document the parameters name (this client's); 404 when it has none."""
    scope = _scope(kind, caller, params, version)
    document_id = _required(params, kind.id_parameter)
    caller.note_audit("read", RESOURCE, None, None)
    found = await repository.get_document(session, scope, document_id)
    if found is None:
        raise NotFound(f"No {kind.name} document {document_id}.")
    return found


async def read_document_ids(
    session: AsyncSession, caller: Caller, kind: Kind, params: Mapping[str, str], version: str
) -> DocumentIds:
    """The ids of this client's documents the parameters name, changed after ``since``."""
    scope = _scope(kind, caller, params, version)
    since = _since(params)
    caller.note_audit("list", RESOURCE, None, None)
    rows = await repository.document_ids(
        session, scope, since, any_registration=_any_registration(kind, params)
    )
    return DocumentIds(
        ids=[document_id for document_id, _ in rows],
        last_modified=max((at for _, at in rows), default=None),
    )


async def store_document(
    session: AsyncSession,
    caller: Caller,
    kind: Kind,
    params: Mapping[str, str],
    version: str,
    *,
    content: bytes,
    content_type: str | None,
    preconditions: Preconditions,
    merge: bool,
) -> None:
    """PUT (``merge`` False): stores the document as sent. POST: merges a JSON object into the
    stored one (one level deep), or stores it when there is none."""
    scope = _scope(kind, caller, params, version)
    document_id = _required(params, kind.id_parameter)
    sent_type = content_type or DEFAULT_MEDIA_TYPE
    posted: dict[str, Any] = {}
    if merge:  # xAPI: a posted document is a JSON object, whether one is stored or not
        if media_type(sent_type) != JSON_MEDIA_TYPE:
            raise refused("Content-Type", "application/json: POST merges a JSON object.")
        posted = _json_object(content, "document")
    caller.note_audit("update", RESOURCE, None, None)
    current = await repository.get_document(session, scope, document_id)
    _check(preconditions, current)
    if not merge and not preconditions.sent:
        _refuse_unguarded(kind, version, current)
    if merge and current is not None:
        if media_type(current.content_type) != JSON_MEDIA_TYPE:
            raise refused("document", "The stored document is not JSON: PUT it instead.")
        merged = {**_json_object(current.content, "document"), **posted}
        content = json.dumps(merged, ensure_ascii=False).encode()
        sent_type = current.content_type
    now = utcnow()
    if current is None:
        stored = await repository.insert_document(
            session, scope, document_id, sent_type, content, now
        )
    else:
        stored = await repository.replace_document(
            session, scope, document_id, current.etag, sent_type, content, now
        )
    if not stored:
        if current is None and preconditions.if_none_match is not None:
            # "Only if there is none", and another request has just stored one.
            raise PreconditionFailed("If-None-Match: the document exists (stored meanwhile).")
        raise ConcurrentChange("The document changed while this request was stored: retry.")


def _refuse_unguarded(kind: Kind, version: str, current: StoredDocument | None) -> None:
    """A PUT without If-Match or If-None-Match (xAPI Communication 3.1 / 4.1.4)."""
    if current is not None and (kind.profile or version.startswith("2.")):
        raise Conflict(
            "The document exists: send If-Match with its ETag to replace it "
            "(or If-None-Match: * to store it only if it does not exist)."
        )
    if current is None and kind.profile and version.startswith("1.0"):
        raise refused("If-Match", "xAPI 1.0.3: send If-Match or If-None-Match with a PUT.")


async def delete_document(
    session: AsyncSession,
    caller: Caller,
    kind: Kind,
    params: Mapping[str, str],
    version: str,
    preconditions: Preconditions,
) -> None:
    """Deletes the document the parameters name, or (a state without ``stateId``) every state
    of the activity, agent and registration. Deleting what is not there is no error."""
    scope = _scope(kind, caller, params, version)
    caller.note_audit("delete", RESOURCE, None, None)
    if kind is STATE and kind.id_parameter not in params:
        await repository.delete_documents(
            session, scope, any_registration=_any_registration(kind, params)
        )
        return
    document_id = _required(params, kind.id_parameter)
    current = await repository.get_document(session, scope, document_id)
    _check(preconditions, current)
    if current is not None:
        expected = current.etag if preconditions.sent else None
        if not await repository.delete_document(session, scope, document_id, expected):
            raise ConcurrentChange("The document changed while this request was handled: retry.")
