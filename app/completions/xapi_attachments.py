"""xAPI attachments of a statement request (Data 2.4.11, Communication 1.5.2): every attachment
declared without a fileUrl has its raw data in a part whose hash is its sha2; every part is
declared by some statement; a signature attachment is a JWS that signs its statement."""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from app.completions.xapi_multipart import HASH_HEADER, AttachmentPart
from app.completions.xapi_signatures import SIGNATURE_MEDIA_TYPE, is_signature, verify_signature
from app.completions.xapi_statements import Statement
from app.completions.xapi_validation import Malformed
from app.core.problems import BadRequest


def declared(raw: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """The attachments a statement declares (and those of its SubStatement), with their
    paths."""
    for index, attachment in enumerate(raw.get("attachments") or []):
        yield f"{path}attachments.{index}", attachment
    target = raw.get("object")
    if isinstance(target, dict) and target.get("objectType") == "SubStatement":
        yield from declared(target, f"{path}object.")


def matched_attachments(
    statements: Sequence[Statement], parts: Mapping[str, AttachmentPart], *, multipart: bool
) -> list[AttachmentPart]:
    """The parts to store; 400 naming the attachment without its data, the part no statement
    declares, or the signature that does not sign its statement."""
    declared_hashes: set[str] = set()
    for statement in statements:
        for path, attachment in declared(statement.raw):
            sha2 = attachment["sha2"].lower()
            declared_hashes.add(sha2)
            part = parts.get(sha2)
            if part is None and "fileUrl" not in attachment:
                if not multipart:
                    raise Malformed(
                        statement.where,
                        f"{path}.fileUrl",
                        "Required in application/json; else send the data as a "
                        "multipart/mixed part.",
                    )
                raise Malformed(
                    statement.where,
                    f"{path}.sha2",
                    f"No part has this {HASH_HEADER}: the attachment's data is missing.",
                )
            # A statement's own signature (a SubStatement is signed with the statement).
            if is_signature(attachment) and path.startswith("attachments."):
                _check_signature(statement, path, attachment, part)
    for sha2 in parts:
        if sha2 not in declared_hashes:
            reason = "No statement declares an attachment with this sha2."
            raise BadRequest(
                f"{HASH_HEADER} {sha2}: {reason}", invalid_params=[(HASH_HEADER, reason)]
            )
    return list(parts.values())


def _check_signature(
    statement: Statement, path: str, attachment: dict[str, Any], part: AttachmentPart | None
) -> None:
    if attachment["contentType"].split(";")[0].strip().lower() != SIGNATURE_MEDIA_TYPE:
        raise Malformed(
            statement.where, f"{path}.contentType", f"A signature is {SIGNATURE_MEDIA_TYPE}."
        )
    if part is None:
        raise Malformed(
            statement.where, f"{path}.sha2", "A signature is sent as a multipart/mixed part."
        )
    # As stored: with the id PUT's statementId gave it, or the one generated.
    verify_signature({**statement.raw, "id": statement.id}, part.content, statement.where, path)
