"""Pure ASGI middleware: the security headers every answer carries unless its route set its own.

Answers may carry personal data, so none may be stored by a browser or a shared cache
(``Cache-Control: no-store``); none may be framed, sniffed into another media type, or leak
the URL (which can hold an employee number) to another site. A route that means to be cached,
or a page that needs a wider Content-Security-Policy (the API documentation), sets the header
itself and that value is kept. A ``Server`` header is never sent (uvicorn's own is switched off
in ``iqt serve``).
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Nothing in a JSON or problem+json answer may run, load or be framed.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

DEFAULT_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", API_CONTENT_SECURITY_POLICY.encode()),
    (b"referrer-policy", b"no-referrer"),
)
_DEFAULT_NAMES = frozenset(name for name, _ in DEFAULT_HEADERS)


class SecurityHeadersMiddleware:
    """Adds each of ``DEFAULT_HEADERS`` the response does not set, and drops ``Server``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() != b"server"
                ]
                present = {name.lower() for name, _ in headers} & _DEFAULT_NAMES
                headers.extend(h for h in DEFAULT_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
