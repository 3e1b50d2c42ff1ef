"""xAPI statements (1.0.x and 2.0.x), read strictly enough to tell a course completion from
anything else, and to name the property that makes a statement malformed."""

import functools
import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from app.completions.xapi_validation import VERSION, Malformed, validate_statement
from app.core.schemas import plausible_date, text_problem

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_PROPERTIES = {
    "id",
    "actor",
    "verb",
    "object",
    "result",
    "context",
    "timestamp",
    "stored",
    "authority",
    "version",
    "attachments",
}
# Set or changed by an LRS, or not part of a statement's identity (xAPI "Statement
# Immutability"): left out when two statements with one id are compared.
_NOT_COMPARED = {"id", "stored", "authority", "version", "attachments"}


@dataclass(frozen=True)
class Actor:
    is_group: bool
    account_home_page: str | None = None
    account_name: str | None = None
    email: str | None = None
    mbox_sha1sum: str | None = None
    openid: str | None = None


@dataclass(frozen=True)
class Statement:
    id: str
    where: str  # "" for a single statement, "3." for the fourth of an array
    actor: Actor
    verb_id: str
    activity_id: str | None  # None when the object is not an Activity
    success: bool | None
    completion: bool | None
    score_scaled: float | None
    timestamp: datetime | None
    content_hash: str
    raw: dict[str, Any]
    # The statement id a StatementRef object names (None for other objects).
    statement_ref: str | None
    registration: str | None
    # Agent identifiers and activity ids it names: True for its actor or object.
    agents: dict[str, bool]
    activities: dict[str, bool]

    @property
    def voids(self) -> str | None:
        """The statement this one voids, if it is a voiding statement."""
        return self.statement_ref if self.verb_id == VOIDED else None


def parse_statement(
    raw: Any, where: str = "", statement_id: str | None = None, version: str = "1.0.3"
) -> Statement:
    if not isinstance(raw, dict):
        raise Malformed(where, "statement", "A statement is a JSON object.")
    dumped = json.dumps(raw, ensure_ascii=False)
    if "null" in dumped:  # a null value, or text that says null: walk to tell which
        _refuse_nulls(raw, where, "")
    unstorable = _unstorable_text(raw, dumped)
    if unstorable is not None:
        raise Malformed(where, *unstorable)
    unknown = sorted(set(raw) - _PROPERTIES)
    if unknown:
        raise Malformed(where, unknown[0], "Not a statement property.")
    given_id = statement_uuid(raw["id"], where, "id") if "id" in raw else None
    validate_statement(raw, where, version)
    if statement_id is not None and given_id is not None and given_id != statement_id:
        raise Malformed(where, "id", "Differs from the statementId parameter.")
    if "version" in raw and not (isinstance(raw["version"], str) and VERSION.match(raw["version"])):
        raise Malformed(where, "version", "Must be 1.0.x or 2.0.x.")
    actor = _actor(_object(raw, "actor", where), where, "actor.")
    verb = _object(raw, "verb", where)
    verb_id = _iri(verb.get("id"), where, "verb.id")
    if "display" in verb and not isinstance(verb["display"], dict):
        raise Malformed(where, "verb.display", "A language map (JSON object).")
    target = _object(raw, "object", where)
    object_type = target.get("objectType", "Activity")
    if object_type not in ("Activity", "Agent", "Group", "StatementRef", "SubStatement"):
        raise Malformed(where, "object.objectType", "Not an xAPI object type.")
    activity_id = _iri(target.get("id"), where, "object.id") if object_type == "Activity" else None
    statement_ref = None
    if object_type == "StatementRef":
        statement_ref = statement_uuid(target.get("id"), where, "object.id")
    if verb_id == VOIDED and statement_ref is None:
        raise Malformed(
            where, "object.objectType", "A voiding statement's object is a StatementRef."
        )
    result = raw.get("result", {})
    if not isinstance(result, dict):
        raise Malformed(where, "result", "A JSON object.")
    context = raw.get("context", {})
    if not isinstance(context, dict):
        raise Malformed(where, "context", "A JSON object.")
    registration = None
    if "registration" in context:
        registration = statement_uuid(context["registration"], where, "context.registration")
    agents: dict[str, bool] = {}
    activities: dict[str, bool] = {}
    _links(raw, agents, activities, direct=True)
    return Statement(
        id=statement_id or given_id or str(uuid.uuid4()),
        where=where,
        actor=actor,
        verb_id=verb_id,
        activity_id=activity_id,
        success=_boolean(result, "success", where),
        completion=_boolean(result, "completion", where),
        score_scaled=_scaled(result, where),
        timestamp=_timestamp(raw, where),
        content_hash=_content_hash(raw),
        raw=raw,
        statement_ref=statement_ref,
        registration=registration,
        agents=agents,
        activities=activities,
    )


def agent_key(agent: Any) -> str | None:
    """An Agent's or identified Group's inverse functional identifier, as one string."""
    if not isinstance(agent, dict):
        return None
    for name in ("mbox", "mbox_sha1sum", "openid"):
        if isinstance(agent.get(name), str):
            value = agent[name].lower() if name == "mbox_sha1sum" else agent[name]
            return f"{name}:{value}"
    account = agent.get("account")
    if isinstance(account, dict):
        return "account:" + json.dumps(
            [account.get("homePage"), account.get("name")], ensure_ascii=False
        )
    return None


def _links(
    statement: dict[str, Any],
    agents: dict[str, bool],
    activities: dict[str, bool],
    *,
    direct: bool,
) -> None:
    """Collects the agents and activities a statement (or a SubStatement) names."""

    def agent(value: Any, is_direct: bool) -> None:
        key = agent_key(value)
        if key is not None:
            agents[key] = agents.get(key, False) or is_direct
        if isinstance(value, dict) and isinstance(value.get("member"), list):
            for member in value["member"]:
                agent(member, False)

    def activity(value: Any, is_direct: bool) -> None:
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            activities[value["id"]] = activities.get(value["id"], False) or is_direct

    agent(statement.get("actor"), direct)
    target = statement.get("object")
    if isinstance(target, dict):
        object_type = target.get("objectType", "Activity")
        if object_type in ("Agent", "Group"):
            agent(target, direct)
        elif object_type == "Activity":
            activity(target, direct)
        elif object_type == "SubStatement":
            _links(target, agents, activities, direct=False)
    agent(statement.get("authority"), False)
    context = statement.get("context")
    if isinstance(context, dict):
        agent(context.get("instructor"), False)
        agent(context.get("team"), False)
        grouped = context.get("contextActivities")
        if isinstance(grouped, dict):
            for listed in grouped.values():
                for item in listed if isinstance(listed, list) else [listed]:
                    activity(item, False)


def _refuse_nulls(value: Any, where: str, path: str) -> None:
    """xAPI: an LRS rejects statements with null values (except inside extensions)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "extensions":
                continue
            name = f"{path}{key}"
            if item is None:
                raise Malformed(where, name, "Null is not allowed.")
            _refuse_nulls(item, where, f"{name}.")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nulls(item, where, f"{path}{index}.")


def _object(raw: Mapping[str, Any], name: str, where: str) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise Malformed(where, name, "Required, a JSON object.")
    return value


def _iri(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str) or not _IRI.match(value):
        raise Malformed(where, name, "Required, an IRI.")
    return value


def statement_uuid(value: Any, where: str, name: str) -> str:
    try:
        parsed = uuid.UUID(value) if isinstance(value, str) and len(value) == 36 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Malformed(where, name, "A UUID in standard string form.")
    return str(parsed)


def _actor(actor: dict[str, Any], where: str, path: str) -> Actor:
    object_type = actor.get("objectType", "Agent")
    if object_type not in ("Agent", "Group"):
        raise Malformed(where, f"{path}objectType", "Agent or Group.")
    identifiers = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor]
    if object_type == "Group" and not identifiers:
        if not isinstance(actor.get("member"), list):
            raise Malformed(where, f"{path}member", "An anonymous Group lists its members.")
        return Actor(is_group=True)
    if len(identifiers) != 1:
        raise Malformed(
            where, path.rstrip("."), "Needs exactly one of mbox, mbox_sha1sum, openid, account."
        )
    found = Actor(is_group=object_type == "Group")
    if "mbox" in actor:
        mbox = actor["mbox"]
        if not isinstance(mbox, str) or not mbox.startswith("mailto:"):
            raise Malformed(where, f"{path}mbox", 'A mailto IRI ("mailto:name@example.org").')
        email = _normalised_email(mbox[7:])
        if isinstance(email, EmailNotValidError):
            raise Malformed(where, f"{path}mbox", f"Not a valid e-mail address: {email}")
        return Actor(found.is_group, email=email)
    if "mbox_sha1sum" in actor:
        digest = actor["mbox_sha1sum"]
        if not isinstance(digest, str) or not _SHA1.match(digest):
            raise Malformed(where, f"{path}mbox_sha1sum", "40 hexadecimal digits (SHA-1).")
        return Actor(found.is_group, mbox_sha1sum=digest.lower())
    if "openid" in actor:
        return Actor(found.is_group, openid=_iri(actor["openid"], where, f"{path}openid"))
    account = actor["account"]
    if not isinstance(account, dict):
        raise Malformed(where, f"{path}account", "A JSON object with homePage and name.")
    home_page = _iri(account.get("homePage"), where, f"{path}account.homePage")
    name = account.get("name")
    if not isinstance(name, str) or not name:
        raise Malformed(where, f"{path}account.name", "Required, a string.")
    return Actor(found.is_group, account_home_page=home_page, account_name=name)


@functools.lru_cache(maxsize=65_536)
def _normalised_email(address: str) -> str | EmailNotValidError:
    """The address normalised, or why it is not one: a platform names the same learners again
    and again, and checking an address costs more than the rest of its statement."""
    try:
        return str(validate_email(address, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        return exc.with_traceback(None)  # kept in the cache: without the frames it was raised in


def _unstorable_text(raw: dict[str, Any], dumped: str) -> tuple[str, str] | None:
    """``text_problem`` of a statement, walked only when its JSON (``dumped``) shows it may
    have one."""
    if "\\u0000" not in dumped:
        try:
            dumped.encode("utf-8")
            return None
        except UnicodeEncodeError:
            pass
    return text_problem(raw)


def _boolean(result: Mapping[str, Any], name: str, where: str) -> bool | None:
    value = result.get(name)
    if value is not None and not isinstance(value, bool):
        raise Malformed(where, f"result.{name}", "true or false.")
    return value


def _scaled(result: Mapping[str, Any], where: str) -> float | None:
    score = result.get("score")
    if score is None:
        return None
    if not isinstance(score, dict):
        raise Malformed(where, "result.score", "A JSON object.")
    for name in ("scaled", "raw", "min", "max"):
        value = score.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise Malformed(where, f"result.score.{name}", "A number.")
    scaled = score.get("scaled")
    if scaled is not None and not -1 <= scaled <= 1:
        raise Malformed(where, "result.score.scaled", "Between -1 and 1.")
    return float(scaled) if scaled is not None else None


def _timestamp(raw: Mapping[str, Any], where: str) -> datetime | None:
    value = raw.get("timestamp")
    if value is None:
        return None
    return parse_timestamp(value, where)


def parse_timestamp(value: Any, where: str = "", name: str = "timestamp") -> datetime:
    """An ISO 8601 timestamp as a UTC instant (Malformed, naming ``name``, when not one)."""
    try:
        parsed = datetime.fromisoformat(value.upper()) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Malformed(where, name, "An ISO 8601 timestamp.")
    try:
        plausible_date(parsed)  # before the conversion to UTC, which year 1 would overflow
    except ValueError as exc:
        raise Malformed(where, name, f"{exc}.") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _content_hash(raw: Mapping[str, Any]) -> str:
    """SHA-256 of the statement as the specification compares it: without the properties an
    LRS may set, the verb's display, the activity's definition; timestamps as instants."""
    compared = {k: v for k, v in raw.items() if k not in _NOT_COMPARED}
    compared["verb"] = {k: v for k, v in raw["verb"].items() if k != "display"}
    compared["object"] = {k: v for k, v in raw["object"].items() if k != "definition"}
    if "timestamp" in raw:
        compared["timestamp"] = _timestamp(raw, "").isoformat()  # type: ignore[union-attr]
    canonical = json.dumps(compared, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
