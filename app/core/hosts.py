"""Links and redirects name this service as configured, never as a request's Host says.

``IQT_PUBLIC_BASE_URL`` (e.g. ``https://iqt.example.nhs.wales``): every link and ``Location`` is
built from it, whatever the Host header. Whether it is set or not, a request whose Host is not
in ``IQT_ALLOWED_HOSTS`` (the public base URL's host included) is refused with 400: an arbitrary
Host never reaches the application.
"""

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.problem_handlers import problem_response
from app.core.problems import BadRequest


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


class TrustedHostMiddleware:
    """Refuses an unknown Host (400 problem); with a public base URL, rewrites the scheme and
    Host the application sees to it."""

    def __init__(
        self, app: ASGIApp, allowed_hosts: Sequence[str], public_base_url: str | None
    ) -> None:
        self.app = app
        self.allowed = [host.lower() for host in allowed_hosts]
        if public_base_url:
            self.allowed.append(host_of(public_base_url))
        self.public = urlsplit(public_base_url) if public_base_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._allowed(_host(scope)):
            response = problem_response(
                Request(scope),
                status=BadRequest.status,
                slug=BadRequest.slug,
                title=BadRequest.title,
                detail="The Host header names no host this service answers to (IQT_ALLOWED_HOSTS).",
            )
            await response(scope, receive, send)
            return
        if self.public is not None:
            scope = self._as_public(scope)
        await self.app(scope, receive, send)

    def _allowed(self, host: str) -> bool:
        for pattern in self.allowed:
            if pattern == "*" or host == pattern:
                return True
            if pattern.startswith("*.") and host.endswith(pattern[1:]):
                return True
        return False

    def _as_public(self, scope: Scope) -> Scope:
        assert self.public is not None
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        headers.append((b"host", self.public.netloc.encode("latin-1")))
        port = self.public.port or (443 if self.public.scheme == "https" else 80)
        return {
            **scope,
            "scheme": self.public.scheme,
            "server": (self.public.hostname, port),
            "headers": headers,
        }


def _host(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"host":
            host = str(value.decode("latin-1")).lower()
            if host.startswith("["):  # an IPv6 literal, [::1]:8000
                return host.split("]", 1)[0] + "]"
            return host.rsplit(":", 1)[0] if ":" in host else host
    return ""
