"""The xAPI multipart/mixed transmission format (Communication 1.5.2): statements in the first
part (application/json), then one part per attachment's raw data, named by its SHA-2 in an
``X-Experience-API-Hash`` header and sent ``Content-Transfer-Encoding: binary``.

Parsed with python-multipart's streaming parser (FastAPI's own); the request body limit bounds
the whole body, so every part is bounded too."""

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.core.problems import BadRequest, PayloadTooLarge

MEDIA_TYPE = "multipart/mixed"
HASH_HEADER = "X-Experience-API-Hash"
# Parts in one request at most (statements and attachments): more is a 413.
MAX_PARTS = 1_000
# The SHA-2 functions a "sha2" may name, by the length of its hexadecimal digest.
_DIGESTS = {64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}
_HEX = re.compile(r"^[0-9a-fA-F]+$")


@dataclass(frozen=True)
class AttachmentPart:
    """The raw data of one attachment, by the SHA-2 it was sent under (lower case)."""

    sha2: str
    content_type: str
    content: bytes


@dataclass
class _Part:
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class MultipartStatements:
    """A multipart/mixed statement request: the statements' JSON and the attachment parts."""

    statements: bytes
    attachments: dict[str, AttachmentPart]


def _refused(name: str, reason: str) -> BadRequest:
    return BadRequest(f"{name}: {reason}", invalid_params=[(name, reason)])


def boundary_of(content_type: str) -> str:
    """The boundary a multipart/mixed Content-Type names (400 when it names none)."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"").decode("latin-1")
    if not boundary or len(boundary) > 70:
        raise _refused("Content-Type", "multipart/mixed needs a boundary (1 to 70 characters).")
    return boundary


def sha2_matches(sha2: str, content: bytes) -> bool:
    """Whether ``sha2`` is the SHA-256, SHA-384 or SHA-512 of ``content`` (by its length)."""
    digest = _DIGESTS.get(len(sha2))
    return (
        digest is not None
        and bool(_HEX.match(sha2))
        and digest(content).hexdigest() == (sha2.lower())
    )


def read_multipart(body: bytes, content_type: str) -> MultipartStatements:
    """The statements and attachment parts of a multipart/mixed body; 400 naming what breaks
    the transmission format: no boundary, not multipart, a first part that is not
    application/json, a later part without its hash, not binary, or whose data does not hash
    to it."""
    parts = _parts(body, boundary_of(content_type))
    if not parts:
        raise _refused("Content-Type", "The body has no part delimited by the boundary.")
    first, *rest = parts
    media_type = first.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _refused("Content-Type", "The first part holds the statements: application/json.")
    attachments: dict[str, AttachmentPart] = {}
    for position, part in enumerate(rest, start=1):
        name = f"part {position}"
        sha2 = part.headers.get(HASH_HEADER.lower(), "").strip()
        if not sha2:
            raise _refused(f"{name}.{HASH_HEADER}", "Required: the attachment's sha2.")
        encoding = part.headers.get("content-transfer-encoding", "binary").strip().lower()
        if encoding != "binary":
            raise _refused(f"{name}.Content-Transfer-Encoding", "Attachment parts are binary.")
        content = b"".join(part.chunks)
        if not sha2_matches(sha2, content):
            raise _refused(
                f"{name}.{HASH_HEADER}", "Not the SHA-256, SHA-384 or SHA-512 of the part's data."
            )
        attachments[sha2.lower()] = AttachmentPart(
            sha2=sha2.lower(),
            content_type=part.headers.get("content-type", "application/octet-stream").strip(),
            content=content,
        )
    return MultipartStatements(statements=b"".join(first.chunks), attachments=attachments)


def _parts(body: bytes, boundary: str) -> list[_Part]:
    parts: list[_Part] = []
    field_name: list[bytes] = []
    value: list[bytes] = []
    ended = False

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise PayloadTooLarge(f"A request holds at most {MAX_PARTS} parts.")
        parts.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.append(data[start:end])

    def on_header_end() -> None:
        name = b"".join(field_name).decode("latin-1").strip().lower()
        parts[-1].headers[name] = b"".join(value).decode("latin-1").strip()
        field_name.clear()
        value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].chunks.append(data[start:end])

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_end": on_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise _refused("body", f"Not multipart/mixed with the boundary sent: {exc}.") from None
    if not ended:
        raise _refused("body", "The multipart body does not end with its closing boundary.")
    return parts


def write_multipart(statements: bytes, attachments: Sequence[AttachmentPart]) -> tuple[bytes, str]:
    """A multipart/mixed body of the statements' JSON and the attachments' raw data, and its
    Content-Type."""
    boundary = secrets.token_hex(16)
    delimiter = f"--{boundary}\r\n".encode()
    chunks = [delimiter, b"Content-Type: application/json\r\n\r\n", statements, b"\r\n"]
    for attachment in attachments:
        chunks += [
            delimiter,
            f"Content-Type: {attachment.content_type}\r\n".encode("latin-1", "replace"),
            b"Content-Transfer-Encoding: binary\r\n",
            f"{HASH_HEADER}: {attachment.sha2}\r\n\r\n".encode(),
            attachment.content,
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"{MEDIA_TYPE}; boundary={boundary}"
