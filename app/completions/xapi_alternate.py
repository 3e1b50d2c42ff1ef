"""The xAPI 1.0.x alternate request syntax (Communication 1.3): ``POST /xapi/...?method=PUT``
with a form body whose fields are the request's headers, its parameters and its ``content``.
Such a request is turned into the one it stands for before routing, so that authentication,
scopes and validation treat both alike. xAPI 2.0 removed the syntax: there it is a 400."""

from urllib.parse import parse_qsl, urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.completions.xapi_versions import offered_versions
from app.core.problem_handlers import problem_response

PREFIX = "/xapi/"
METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")
# The methods the alternate syntax is checked on: any other (DELETE too: an alternate request is
# a POST) is routing's to answer (405 on statements; a DELETE of a document ignores ``method``).
RESOURCE_METHODS = ("GET", "HEAD", "PUT", "POST")
FORM = "application/x-www-form-urlencoded"
VERSION_HEADER = "x-experience-api-version"
# Form fields that are headers of the request they stand for (Communication 1.3.s3.b7).
HEADERS = {"authorization", VERSION_HEADER, "content-type", "content-length", "if-match"}
HEADERS |= {"if-none-match"}


class Refused(Exception):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name, self.reason = name, reason


class XapiAlternateSyntaxMiddleware:
    """Rewrites an alternate-syntax request on ``/xapi/`` into the request it stands for;
    refuses (400 naming the field) one that breaks the syntax's rules."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if scope["method"] not in RESOURCE_METHODS or not any(n == "method" for n, _ in query):
            await self.app(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
            rewritten, content = _rewritten(scope, query, body)
        except Refused as refused:
            await _refusal(scope, refused)(scope, receive, send)
            return
        except HTTPException as exc:  # the body size limit, met while reading the form
            response = problem_response(
                Request(scope),
                status=exc.status_code,
                slug="payload-too-large",
                title="Request body is too large",
                detail=str(exc.detail),
            )
            await response(scope, receive, send)
            return
        sent = False

        async def receive_content() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # a disconnect, when the client goes
            sent = True
            return {"type": "http.request", "body": content, "more_body": False}

        await self.app(rewritten, receive_content, send)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _header(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key.decode("latin-1").lower() == name:
            return str(value.decode("latin-1"))
    return None


def _rewritten(scope: Scope, query: list[tuple[str, str]], body: bytes) -> tuple[Scope, bytes]:
    """The request an alternate-syntax request stands for, and its body."""
    if scope["method"] != "POST":
        raise Refused("method", "The alternate request syntax is a POST.")
    extra = sorted({name for name, _ in query} - {"method"})
    if extra or len(query) != 1:
        name = extra[0] if extra else "method"
        raise Refused(name, "Only method goes in the query string; the rest in the form.")
    method = query[0][1].upper()
    if method not in METHODS:
        raise Refused("method", f"One of {', '.join(METHODS)}.")
    media_type = (_header(scope, "content-type") or "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise Refused("Content-Type", f"The alternate request syntax sends {FORM}.")
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise Refused("content", f"The form is not {FORM}.") from None
    headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
    headers.pop("content-type", None)
    headers.pop("content-length", None)
    parameters: list[tuple[str, str]] = []
    content: str | None = None
    for name, value in form:
        if name.lower() in HEADERS:
            headers[name.lower()] = value.encode("latin-1", "replace")
        elif name == "content":
            content = value
        else:
            parameters.append((name, value))
    version = headers.get(VERSION_HEADER, b"").decode("latin-1").strip()
    if version.startswith("2."):
        raise Refused("method", "xAPI 2.0 has no alternate request syntax.")
    if method in ("PUT", "POST") and content is None:
        raise Refused("content", "Required: the body of the request, as a form field.")
    encoded = (content or "").encode("utf-8")
    headers.setdefault("content-type", b"application/json")
    headers["content-length"] = str(len(encoded)).encode()
    rewritten = {
        **scope,
        "method": method,
        "query_string": urlencode(parameters).encode("latin-1"),
        "headers": [(k.encode("latin-1"), v) for k, v in headers.items()],
    }
    return rewritten, encoded


def _answered(scope: Scope, requested: str) -> str:
    """The version a refusal names: 1.0.3 for a 1.0 request when spoken, else the latest."""
    offered = offered_versions(scope)
    return "1.0.3" if requested.startswith("1.0") and "1.0.3" in offered else offered[-1]


def _refusal(scope: Scope, refused: Refused) -> JSONResponse:
    requested = (_header(scope, VERSION_HEADER) or "").strip()
    return problem_response(
        Request(scope),
        status=400,
        slug="bad-request",
        title="Bad request",
        detail=f"{refused.name}: {refused.reason}",
        invalid_params=[(refused.name, refused.reason)],
        headers={"X-Experience-API-Version": _answered(scope, requested)},
    )
