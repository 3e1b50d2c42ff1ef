"""Path and header parameters and documented responses shared by the project routes."""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Path

from app.core.etag import etag_header
from app.core.openapi import problem_responses

# Bounded to the database's BIGINT: a larger id is a 422, not a driver overflow (500).
ProjectId = Annotated[
    int, Path(alias="projectId", ge=1, le=2**63 - 1, description="Project id.", examples=[42])
]
ETAG_HEADER = etag_header("the project")
STATE_CONFLICT = (
    "The project's state does not allow this; the problem's `currentState` and "
    "`allowedActions` say what does."
)
ORGANISATION_FORBIDDEN = (
    "The token lacks a scope, or names an organisation this client may not place projects in."
)


def problems(
    *statuses: int, described: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """Problem responses, some with a description of what the status means here."""
    responses = problem_responses(*statuses)
    for status, description in (described or {}).items():
        responses[status] = {**responses[status], "description": description}
    return responses
