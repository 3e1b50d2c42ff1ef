"""Pure ASGI middleware: request ids and access logs, the 500 problem, and the body size limit."""

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import get_logger
from app.core.problem_handlers import problem_response

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
REQUEST_ID_HEADER = "x-request-id"
CORRELATION_ID_HEADER = "x-correlation-id"


def _header(scope: Scope, name: str) -> str | None:
    raw = name.encode()
    for key, value in scope.get("headers", []):
        if key == raw:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
                return None
    return None


class RequestContextMiddleware:
    """Accepts or generates X-Request-ID / X-Correlation-ID, echoes them, logs the request.

    A malformed id is not trusted: it is replaced by a fresh one and the replacement is logged.
    An unhandled exception becomes a generic 500 problem carrying the request id; the exception
    itself goes only to the log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = get_logger("iqt.request")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        notes: dict[str, Any] = {}
        request_id = self._accept_id(scope, REQUEST_ID_HEADER, notes) or str(uuid.uuid4())
        correlation_id = self._accept_id(scope, CORRELATION_ID_HEADER, notes) or request_id
        scope.setdefault("state", {})
        scope["state"]["request_id"] = request_id
        scope["state"]["correlation_id"] = correlation_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, correlation_id=correlation_id)
        started = time.perf_counter()
        status_holder = {"status": 500, "started": False}
        id_headers = [
            (b"x-request-id", request_id.encode()),
            (b"x-correlation-id", correlation_id.encode()),
        ]

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + id_headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_ids)
        except Exception:
            self.log.exception("request.unhandled_error", path_template=self._route(scope))
            if status_holder["started"]:
                raise
            response = problem_response(
                Request(scope),
                status=500,
                slug="internal-error",
                title="Internal server error",
                detail="The service could not complete the request. Quote the requestId "
                "when reporting it.",
            )
            await response(scope, receive, send_with_ids)
        finally:
            state = scope.get("state", {})
            self.log.info(
                "request",
                method=scope.get("method"),
                route=self._route(scope),
                status=status_holder["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client_id=state.get("client_id"),
                **notes,
            )

    @staticmethod
    def _accept_id(scope: Scope, header: str, notes: dict[str, Any]) -> str | None:
        value = _header(scope, header)
        if value is None:
            return None
        if _SAFE_ID.match(value):
            return value
        notes[f"{header.replace('-', '_')}_replaced"] = True
        return None

    @staticmethod
    def _route(scope: Scope) -> str | None:
        route = scope.get("route")
        return getattr(route, "path", None)


class BodySizeLimitMiddleware:
    """Refuses request bodies over the limit with a 413 problem, by header or by counting."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counting_receive, send)

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            Request(scope),
            status=413,
            slug="payload-too-large",
            title="Request body is too large",
            detail=self._detail(),
        )
        await response(scope, receive, send)


class RequestHeadLimitsMiddleware:
    """Refuses, before anything else reads them, a request target over ``max_url_bytes``
    (414: the links that name the request stay within their documented length), headers
    over ``max_header_bytes`` in all (431), and NUL characters in the path or in query
    parameters (422 naming the parameter: no database column stores them)."""

    def __init__(self, app: ASGIApp, max_url_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_url_bytes = max_url_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, slug, title, detail, invalid = refusal
        response = problem_response(
            Request(scope),
            status=status,
            slug=slug,
            title=title,
            detail=detail,
            invalid_params=invalid,
        )
        await response(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[int, str, str, str, list[tuple[str, str]]] | None:
        header_bytes = sum(len(name) + len(value) for name, value in scope["headers"])
        if header_bytes > self.max_header_bytes:
            detail = f"The request headers are larger than {self.max_header_bytes} bytes."
            return 431, "headers-too-large", "Request headers are too large", detail, []
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        if len(raw_path) + len(query) + 1 > self.max_url_bytes:
            detail = f"The request URL is longer than {self.max_url_bytes} bytes."
            return 414, "uri-too-long", "Request URL is too long", detail, []
        invalid = [("path", NUL_REASON)] if "\x00" in scope["path"] else []
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                invalid.append((name.replace("\x00", "\\u0000"), NUL_REASON))
        if invalid:
            detail = "The URL holds NUL (U+0000) characters."
            return 422, "validation-error", "Request is not valid", detail, invalid
        return None


NUL_REASON = "Must not contain NUL (U+0000) characters"
