"""The xAPI Activities and Agents resources (Communication 2.4 and 2.5; 2.0.0 4.1.6.3-4):
an activity as the statements this client may read define it, and an agent as a Person."""

from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.completions import xapi_repository
from app.completions.xapi_documents import activity_parameter, agent_parameter
from app.completions.xapi_repository import Reader

# Statements read to gather an activity's definition: the latest ones that name it.
DEFINING_STATEMENTS = 100
_IDENTIFIERS = ("mbox", "mbox_sha1sum", "openid", "account")
# Parts of a definition that several statements may each give a part of (by language, by key).
_MAPS = ("name", "description", "extensions")


async def read_activity(
    session: AsyncSession, caller: Caller, params: Mapping[str, str]
) -> dict[str, Any]:
    """The Activity ``activityId`` names: its definition merged from the latest statements
    that name it (a later one's value wins; name, description and extensions gather every
    language and key), or just its id when none does."""
    activity_id = activity_parameter(params)
    caller.note_audit("read", "xapiActivity", None, None)
    reader = Reader(caller.client_id, caller.organisations)
    statements = await xapi_repository.statements_naming_activity(
        session, reader, activity_id, DEFINING_STATEMENTS
    )
    definition: dict[str, Any] = {}
    for statement in statements:
        for activity in _activities(statement):
            if activity.get("id") == activity_id and isinstance(activity.get("definition"), dict):
                _merge(definition, activity["definition"])
    answered: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        answered["definition"] = definition
    return answered


def _merge(definition: dict[str, Any], given: Mapping[str, Any]) -> None:
    for key, value in given.items():
        if key in _MAPS and isinstance(value, dict) and isinstance(definition.get(key), dict):
            definition[key] = {**definition[key], **value}
        else:
            definition[key] = value


def _activities(statement: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Activity a statement (or its SubStatement) names: object and context ones."""
    target = statement.get("object")
    if isinstance(target, dict):
        object_type = target.get("objectType", "Activity")
        if object_type == "Activity":
            yield target
        elif object_type == "SubStatement":
            yield from _activities(target)
    context = statement.get("context")
    grouped = context.get("contextActivities") if isinstance(context, dict) else None
    if isinstance(grouped, dict):
        for listed in grouped.values():
            for activity in listed if isinstance(listed, list) else [listed]:
                if isinstance(activity, dict):
                    yield activity


def read_agent(caller: Caller, params: Mapping[str, str], version: str) -> dict[str, Any]:
    """The Person the ``agent`` parameter names: its name and identifier, each as an array.
    This LRS does not join identifiers of one person across agents, so that is all it knows."""
    agent = agent_parameter(params, version)
    caller.note_audit("read", "xapiAgent", None, None)
    person: dict[str, Any] = {"objectType": "Person"}
    if isinstance(agent.get("name"), str):
        person["name"] = [agent["name"]]
    for name in _IDENTIFIERS:
        if name in agent:
            person[name] = [agent[name]]
    return person
