"""ETags from a resource's version number, and If-Match checks (412 / 428)."""

from typing import Annotated, Any

from fastapi import Header

from app.core.problems import PreconditionFailed, PreconditionRequired

# The If-Match request header, as every conditional write declares it.
IfMatch = Annotated[
    str | None, Header(alias="If-Match", max_length=200, description="ETag last read.")
]
# Where If-Match is required: read by hand, so that a missing one is the 428 RFC 6585 names (not
# a 422), and documented through ``openapi_extra`` as the required parameter it is.
RequiredIfMatch = Annotated[str | None, Header(alias="If-Match", include_in_schema=False)]
REQUIRED_IF_MATCH = {
    "parameters": [
        {
            "name": "If-Match",
            "in": "header",
            "required": True,
            "description": "ETag last read (428 without it, 412 when stale).",
            "schema": {"type": "string", "maxLength": 200},
            "example": '"3"',
        }
    ]
}


def etag_header(what: str) -> dict[str, Any]:
    """The documented ``ETag`` response header of a resource (``what``: "the course")."""
    return {
        "ETag": {
            "description": f"Version of {what}.",
            "schema": {"type": "string", "maxLength": 200},
        }
    }


def etag_for(version: int) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int, *, required: bool = False) -> None:
    """Raises 412 when If-Match names none of the current ETag (or ``*``); 428 when required
    and absent. Versions start at 1: version 0 means the resource does not exist yet, and then
    nothing matches, not even ``*`` (RFC 9110 §13.1.1)."""
    if if_match is None:
        if required:
            raise PreconditionRequired("Send If-Match with the ETag you last read.")
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if version < 1:
        raise PreconditionFailed(f"If-Match {if_match} was sent, but the resource does not exist.")
    if "*" in candidates:
        return
    current = etag_for(version)
    if current not in candidates:
        raise PreconditionFailed(
            f"If-Match {if_match} does not match the current ETag {current}.",
            extensions={"currentETag": current},
        )
