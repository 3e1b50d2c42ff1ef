"""xAPI version negotiation: which version a request is answered in, among those this LRS
speaks (IQT_XAPI_VERSIONS), and the 400 for a request without one, on every ``/xapi`` path but
About (xAPI Communication 2.8 and 3.3): the resources served check it themselves, after
authentication; this middleware checks it on the paths not served, whose 404 would otherwise
come first."""

from collections.abc import Sequence

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.completions import xapi
from app.completions.xapi_validation import VERSION
from app.core.problem_handlers import problem_response
from app.core.problems import BadRequest

VERSION_HEADER = "X-Experience-API-Version"
PREFIX = "/xapi/"
# Served by app/completions/xapi_router.py and xapi_document_router.py, which check the version
# themselves (after auth).
SERVED = (
    "/xapi/statements",
    "/xapi/about",
    "/xapi/activities",
    "/xapi/activities/state",
    "/xapi/activities/profile",
    "/xapi/agents",
    "/xapi/agents/profile",
)


def offered_versions(scope: Scope) -> list[str]:
    """The versions this LRS speaks (IQT_XAPI_VERSIONS): 1.0.3 answers every 1.0.x."""
    return list(scope["app"].state.settings.xapi_versions)


def answered_version(offered: Sequence[str], requested: str | None) -> str:
    """The version a request is answered in; 400 naming the latest spoken when it sends none,
    or one this LRS does not speak."""
    answered = None
    if requested is not None and len(requested) <= 20 and VERSION.match(requested.strip()):
        answered = xapi.version_answered(requested.strip())
    if answered is None or answered not in offered:
        spoken = " or ".join(f"{v[:3]}.x" for v in offered)
        raise BadRequest(
            f"{VERSION_HEADER} must be sent, with version {spoken}.",
            invalid_params=[(VERSION_HEADER, f"Required: {spoken}.")],
            # xAPI 2.0: the refusal names the latest version this LRS answers in.
            headers={VERSION_HEADER: offered[-1]},
        )
    return answered


class XapiVersionMiddleware:
    """Refuses a request to an ``/xapi`` path not served here without a version this LRS
    speaks (400); with one, routing answers (404), naming the version as xAPI answers do."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX) or path.rstrip("/") in SERVED:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            answered = answered_version(
                offered_versions(scope), request.headers.get(VERSION_HEADER)
            )
        except BadRequest as refused:
            response = problem_response(
                request,
                status=refused.status,
                slug=refused.slug,
                title=refused.title,
                detail=refused.detail,
                invalid_params=refused.invalid_params,
                headers=refused.headers,
            )
            await response(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *message.get("headers", []),
                    (b"x-experience-api-version", answered.encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_version)
