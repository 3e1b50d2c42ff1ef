"""xAPI statement validation as the specification requires (1.0.3 and 2.0), at any depth:
the first property that breaks a rule is named by its path ("context.instructor.mbox")."""

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from app.core.problems import BadRequest

IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_MAILTO = re.compile(r"^mailto:[^@\s]+@[^@\s]+\.[^@\s]+$")
# PnW alone, or years to seconds (ISO 8601 durations as xAPI uses them).
_DURATION = re.compile(
    r"^P((\d+(\.\d+)?W)|(?=.)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?)$"
)
# RFC 3339 forbids the "unknown local offset" forms.
_UNKNOWN_OFFSET = re.compile(r"-00(:?00)?$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?$"
)
VERSION = re.compile(r"^(1\.0|2\.0)(\.\d+)?$")
_INTERACTIONS = {
    "true-false": (),
    "choice": ("choices",),
    "fill-in": (),
    "long-fill-in": (),
    "matching": ("source", "target"),
    "performance": ("steps",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "numeric": (),
    "other": (),
}
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_CONTEXT_ACTIVITIES = {"parent", "grouping", "category", "other"}


class Malformed(BadRequest):
    """A statement the xAPI specification says an LRS must reject (400)."""

    def __init__(self, where: str, name: str, reason: str) -> None:
        super().__init__(
            f"The statement is not valid xAPI: {where}{name}: {reason}",
            invalid_params=[(f"{where}{name}", reason)],
        )


class _Check:
    """Validation of one statement; ``where`` prefixes every path (its place in an array)."""

    def __init__(self, where: str, version: str) -> None:
        self.where = where
        self.v2 = version.startswith("2.")

    def fail(self, path: str, reason: str) -> Malformed:
        return Malformed(self.where, path, reason)

    def obj(self, value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, "A JSON object.")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}", "Not a property here.")
        return value

    def iri(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or not IRI.match(value):
            raise self.fail(path, "An IRI.")

    def uuid(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or not _UUID.match(value):
            raise self.fail(path, "A UUID.")

    def string(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise self.fail(path, "A string.")

    def language_map(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(path, "A language map (JSON object).")
        for tag, text in value.items():
            if not _LANGUAGE.match(tag):
                raise self.fail(f"{path}.{tag}", "Not a language tag.")
            self.string(text, f"{path}.{tag}")

    def extensions(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise self.fail(path, "A JSON object.")
        for key in value:
            self.iri(key, f"{path}.{key}")

    def timestamp(self, value: Any, path: str) -> None:
        shaped = isinstance(value, str) and _TIMESTAMP.match(value)
        if not shaped or _UNKNOWN_OFFSET.search(value):
            raise self.fail(path, "An ISO 8601 timestamp (RFC 3339), with its offset.")
        if self.v2 and value[-1] not in "Zz" and not re.search(r"[+-]\d{2}:?\d{2}$", value):
            raise self.fail(path, "An RFC 3339 timestamp, with its offset.")
        try:
            datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
        except ValueError:
            raise self.fail(path, "Not a date and time.") from None

    # Agents and Groups

    def agent(self, value: Any, path: str, *, object_type_required: bool = False) -> None:
        allowed = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}
        agent = self.obj(value, path, allowed)
        if object_type_required and agent.get("objectType") != "Agent":
            raise self.fail(f"{path}.objectType", "Agent.")
        if agent.get("objectType", "Agent") != "Agent":
            raise self.fail(f"{path}.objectType", "Agent.")
        if self.identifiers(agent, path) != 1:
            raise self.fail(path, "Needs exactly one of mbox, mbox_sha1sum, openid, account.")

    def group(self, value: Any, path: str) -> None:
        allowed = {"objectType", "name", "member", "mbox", "mbox_sha1sum", "openid", "account"}
        group = self.obj(value, path, allowed)
        if group.get("objectType") != "Group":
            raise self.fail(f"{path}.objectType", "Group.")
        found = self.identifiers(group, path)
        if found > 1:
            raise self.fail(path, "At most one of mbox, mbox_sha1sum, openid, account.")
        if found == 0 and "member" not in group:
            raise self.fail(f"{path}.member", "An anonymous Group lists its members.")
        if "member" in group:
            members = group["member"]
            if not isinstance(members, list) or (found == 0 and not members):
                raise self.fail(f"{path}.member", "An array of Agents.")
            for index, member in enumerate(members):
                self.agent(member, f"{path}.member.{index}")

    def actor(self, value: Any, path: str) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
        else:
            self.agent(value, path)

    def identifiers(self, agent: Mapping[str, Any], path: str) -> int:
        if "mbox" in agent and (
            not isinstance(agent["mbox"], str) or not _MAILTO.match(agent["mbox"])
        ):
            raise self.fail(f"{path}.mbox", 'A mailto IRI ("mailto:name@example.org").')
        if "mbox_sha1sum" in agent and (
            not isinstance(agent["mbox_sha1sum"], str) or not _SHA1.match(agent["mbox_sha1sum"])
        ):
            raise self.fail(f"{path}.mbox_sha1sum", "40 hexadecimal digits (SHA-1).")
        if "openid" in agent:
            self.iri(agent["openid"], f"{path}.openid")
        if "account" in agent:
            account = self.obj(agent["account"], f"{path}.account", {"homePage", "name"})
            self.iri(account.get("homePage"), f"{path}.account.homePage")
            self.string(account.get("name"), f"{path}.account.name")
        if "name" in agent:
            self.string(agent["name"], f"{path}.name")
        return sum(k in agent for k in ("mbox", "mbox_sha1sum", "openid", "account"))

    # Verb, objects, activities

    def verb(self, value: Any, path: str) -> None:
        verb = self.obj(value, path, {"id", "display"})
        self.iri(verb.get("id"), f"{path}.id")
        if "display" in verb:
            self.language_map(verb["display"], f"{path}.display")

    def activity(self, value: Any, path: str) -> None:
        activity = self.obj(value, path, {"objectType", "id", "definition"})
        if activity.get("objectType", "Activity") != "Activity":
            raise self.fail(f"{path}.objectType", "Activity.")
        self.iri(activity.get("id"), f"{path}.id")
        if "definition" in activity:
            self.definition(activity["definition"], f"{path}.definition")

    def definition(self, value: Any, path: str) -> None:
        allowed = {"name", "description", "type", "moreInfo", "interactionType"}
        allowed |= {"correctResponsesPattern", "extensions", *_COMPONENT_LISTS}
        definition = self.obj(value, path, allowed)
        for name in ("name", "description"):
            if name in definition:
                self.language_map(definition[name], f"{path}.{name}")
        for name in ("type", "moreInfo"):
            if name in definition:
                self.iri(definition[name], f"{path}.{name}")
        if "extensions" in definition:
            self.extensions(definition["extensions"], f"{path}.extensions")
        interaction = definition.get("interactionType")
        if interaction is not None and (
            not isinstance(interaction, str) or interaction not in _INTERACTIONS
        ):
            raise self.fail(f"{path}.interactionType", "Not an xAPI interaction type.")
        if "correctResponsesPattern" in definition:
            if interaction is None:
                raise self.fail(f"{path}.correctResponsesPattern", "Needs an interactionType.")
            pattern = definition["correctResponsesPattern"]
            if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
                raise self.fail(f"{path}.correctResponsesPattern", "An array of strings.")
        for name in _COMPONENT_LISTS:
            if name not in definition:
                continue
            if interaction is None or name not in _INTERACTIONS[interaction]:
                raise self.fail(f"{path}.{name}", "Not for this interactionType.")
            self.components(definition[name], f"{path}.{name}")

    def components(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise self.fail(path, "An array of interaction components.")
        seen: set[str] = set()
        for index, item in enumerate(value):
            component = self.obj(item, f"{path}.{index}", {"id", "description"})
            self.string(component.get("id"), f"{path}.{index}.id")
            if component["id"] in seen:
                raise self.fail(f"{path}.{index}.id", "Repeats an id of this list.")
            seen.add(component["id"])
            if "description" in component:
                self.language_map(component["description"], f"{path}.{index}.description")

    def statement_ref(self, value: Any, path: str) -> None:
        ref = self.obj(value, path, {"objectType", "id"})
        if ref.get("objectType") != "StatementRef":
            raise self.fail(f"{path}.objectType", "StatementRef.")
        self.uuid(ref.get("id"), f"{path}.id")

    def target(self, value: Any, path: str, *, in_substatement: bool) -> None:
        if not isinstance(value, dict):
            raise self.fail(path, "Required, a JSON object.")
        checks: dict[str, Callable[[Any, str], None]] = {
            "Activity": self.activity,
            "Agent": lambda v, p: self.agent(v, p, object_type_required=True),
            "Group": self.group,
            "StatementRef": self.statement_ref,
            "SubStatement": self.substatement,
        }
        object_type = value.get("objectType", "Activity")
        allowed = not in_substatement or object_type != "SubStatement"
        if not isinstance(object_type, str) or object_type not in checks or not allowed:
            raise self.fail(f"{path}.objectType", "Not an object type allowed here.")
        checks[object_type](value, path)

    def substatement(self, value: Any, path: str) -> None:
        allowed = {"objectType", "actor", "verb", "object", "result", "context", "timestamp"}
        self.body(self.obj(value, path, allowed | {"attachments"}), f"{path}.", substatement=True)

    # Result, context, attachments

    def result(self, value: Any, path: str) -> None:
        allowed = {"score", "success", "completion", "response", "duration", "extensions"}
        result = self.obj(value, path, allowed)
        for name in ("success", "completion"):
            if name in result and not isinstance(result[name], bool):
                raise self.fail(f"{path}.{name}", "true or false.")
        if "response" in result:
            self.string(result["response"], f"{path}.response")
        if "duration" in result and (
            not isinstance(result["duration"], str) or not _DURATION.match(result["duration"])
        ):
            raise self.fail(f"{path}.duration", "An ISO 8601 duration.")
        if "extensions" in result:
            self.extensions(result["extensions"], f"{path}.extensions")
        if "score" in result:
            self.score(result["score"], f"{path}.score")

    def score(self, value: Any, path: str) -> None:
        score = self.obj(value, path, {"scaled", "raw", "min", "max"})
        for name, number in score.items():
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise self.fail(f"{path}.{name}", "A number.")
        if "scaled" in score and not -1 <= score["scaled"] <= 1:
            raise self.fail(f"{path}.scaled", "Between -1 and 1.")
        low, high = score.get("min"), score.get("max")
        if low is not None and high is not None and low > high:
            raise self.fail(f"{path}.max", "Not below min.")
        if "raw" in score:
            if low is not None and score["raw"] < low:
                raise self.fail(f"{path}.raw", "Not below min.")
            if high is not None and score["raw"] > high:
                raise self.fail(f"{path}.raw", "Not above max.")

    def context(self, value: Any, path: str, object_type: str) -> None:
        allowed = {"registration", "instructor", "team", "contextActivities", "revision"}
        allowed |= {"platform", "language", "statement", "extensions"}
        if self.v2:
            allowed |= {"contextAgents", "contextGroups"}
        context = self.obj(value, path, allowed)
        if "registration" in context:
            self.uuid(context["registration"], f"{path}.registration")
        if "instructor" in context:
            self.actor(context["instructor"], f"{path}.instructor")
        if "team" in context:
            self.group(context["team"], f"{path}.team")
        for name in ("revision", "platform"):
            if name in context:
                self.string(context[name], f"{path}.{name}")
                if object_type != "Activity":
                    raise self.fail(f"{path}.{name}", "Only when the object is an Activity.")
        if "language" in context and (
            not isinstance(context["language"], str) or not _LANGUAGE.match(context["language"])
        ):
            raise self.fail(f"{path}.language", "A language tag.")
        if "statement" in context:
            self.statement_ref(context["statement"], f"{path}.statement")
        if "extensions" in context:
            self.extensions(context["extensions"], f"{path}.extensions")
        if "contextActivities" in context:
            grouped = self.obj(
                context["contextActivities"], f"{path}.contextActivities", _CONTEXT_ACTIVITIES
            )
            for name, listed in grouped.items():
                items = listed if isinstance(listed, list) else [listed]
                for index, item in enumerate(items):
                    where = f"{path}.contextActivities.{name}"
                    self.activity(item, f"{where}.{index}" if isinstance(listed, list) else where)
        for name, kind, member in (
            ("contextAgents", "contextAgent", "agent"),
            ("contextGroups", "contextGroup", "group"),
        ):
            if name in context:
                self.context_agents(context[name], f"{path}.{name}", kind, member)

    def context_agents(self, value: Any, path: str, kind: str, member: str) -> None:
        if not isinstance(value, list):
            raise self.fail(path, "An array.")
        for index, item in enumerate(value):
            where = f"{path}.{index}"
            entry = self.obj(item, where, {"objectType", member, "relevantTypes"})
            if entry.get("objectType") != kind:
                raise self.fail(f"{where}.objectType", f"{kind}.")
            if member == "agent":
                self.agent(entry.get(member), f"{where}.{member}")
            else:
                self.group(entry.get(member), f"{where}.{member}")
            if "relevantTypes" in entry:
                types = entry["relevantTypes"]
                if not isinstance(types, list) or not types:
                    raise self.fail(f"{where}.relevantTypes", "A non-empty array of IRIs.")
                for position, iri in enumerate(types):
                    self.iri(iri, f"{where}.relevantTypes.{position}")

    def attachments(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise self.fail(path, "An array.")
        allowed = {"usageType", "display", "description", "contentType", "length", "sha2"}
        for index, item in enumerate(value):
            where = f"{path}.{index}"
            attachment = self.obj(item, where, allowed | {"fileUrl"})
            self.iri(attachment.get("usageType"), f"{where}.usageType")
            self.language_map(attachment.get("display"), f"{where}.display")
            if "description" in attachment:
                self.language_map(attachment["description"], f"{where}.description")
            self.string(attachment.get("contentType"), f"{where}.contentType")
            length = attachment.get("length")
            if isinstance(length, bool) or not isinstance(length, int):
                raise self.fail(f"{where}.length", "An integer.")
            self.string(attachment.get("sha2"), f"{where}.sha2")
            # Without a fileUrl, the data comes as a multipart part (xapi_attachments.py).
            if "fileUrl" in attachment:
                self.iri(attachment["fileUrl"], f"{where}.fileUrl")

    # The statement

    def body(self, raw: dict[str, Any], prefix: str, *, substatement: bool) -> None:
        for name in ("actor", "verb", "object"):
            if name not in raw:
                raise self.fail(f"{prefix}{name}", "Required.")
        self.actor(raw["actor"], f"{prefix}actor")
        self.verb(raw["verb"], f"{prefix}verb")
        self.target(raw["object"], f"{prefix}object", in_substatement=substatement)
        if "result" in raw:
            self.result(raw["result"], f"{prefix}result")
        if "context" in raw:
            object_type = raw["object"].get("objectType", "Activity")
            self.context(raw["context"], f"{prefix}context", object_type)
        if "timestamp" in raw:
            self.timestamp(raw["timestamp"], f"{prefix}timestamp")
        if "attachments" in raw:
            self.attachments(raw["attachments"], f"{prefix}attachments")

    def statement(self, raw: dict[str, Any]) -> None:
        if "id" in raw:
            self.uuid(raw["id"], "id")
        self.body(raw, "", substatement=False)
        if "stored" in raw:
            self.timestamp(raw["stored"], "stored")
        if "version" in raw and not (
            isinstance(raw["version"], str) and VERSION.match(raw["version"])
        ):
            raise self.fail("version", "Must be 1.0.x or 2.0.x.")
        if "authority" in raw:
            self.authority(raw["authority"])

    def authority(self, value: Any) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, "authority")
            if self.identifiers(value, "authority"):
                raise self.fail("authority", "An authority Group is anonymous (OAuth).")
            members = value.get("member")
            if not isinstance(members, list) or len(members) != 2:
                raise self.fail("authority.member", "An OAuth authority Group has two Agents.")
        else:
            self.agent(value, "authority")


def validate_statement(raw: dict[str, Any], where: str, version: str) -> None:
    """Raises Malformed, naming the first property that breaks a rule of the specification."""
    _Check(where, version).statement(raw)


def validate_agent(value: Any, name: str, version: str) -> None:
    """An agent parameter of the document, agents and statement resources: an Agent or a
    Group, as a statement's actor is checked (Malformed naming the path under ``name``)."""
    _Check("", version).actor(value, name)
