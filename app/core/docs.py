"""/docs (Swagger UI) and /redoc, served whole by the service: no request leaves it.

Hospital networks often block CDNs, where pages that load their scripts from one are blank. The
Swagger UI and ReDoc files come from the pinned ``fastapi-offline`` package (pyproject.toml) and
are served under a path naming its version, so browsers may keep them. Each page has a
Content-Security-Policy of its own: scripts, styles and images from this service only, plus
Swagger UI's one inline start-up script by its SHA-256 hash, computed from the page as rendered
(a FastAPI upgrade that changes the page cannot silently break it or widen the policy). Styles
may be inline (both UIs set style attributes); framing stays forbidden.

Each UI would fetch one thing from elsewhere: Swagger UI's online validator badge is switched
off, and ReDoc's logo (loaded from its maker's CDN, whatever its options) is pointed at an empty
image, which ReDoc then hides.
"""

import base64
import hashlib
import re
from functools import cache
from importlib.metadata import version
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

ASSETS_PACKAGE = "fastapi-offline"
ASSETS_DIRECTORY = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = f"/docs/assets/{ASSETS_PACKAGE}-{version(ASSETS_PACKAGE)}"

# Served for a year: the path names the package version.
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
REDOC_SCRIPT = "redoc.standalone.js"
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"

DOCS_SOURCES = {
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "worker-src": ["blob:"],  # ReDoc's search runs in a worker it builds from a blob
}


def docs_content_security_policy(page: bytes) -> str:
    """The policy for one rendered documentation page."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
    directives = ["default-src 'none'"]
    for directive, sources in DOCS_SOURCES.items():
        extra = hashes if directive == "script-src" else []
        directives.append(" ".join([directive, *sources, *extra]))
    directives += ["base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"]
    return "; ".join(directives)


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = docs_content_security_policy(bytes(page.body))
    return page


@cache
def _redoc_script() -> bytes:
    """ReDoc's bundle with its logo pointed at an empty image (it hides an image that fails)."""
    return (ASSETS_DIRECTORY / REDOC_SCRIPT).read_bytes().replace(REDOC_LOGO, b"data:,")


async def _redoc_script_response(_: Request) -> Response:
    return Response(
        _redoc_script(),
        media_type="text/javascript",
        headers={"Cache-Control": ASSET_CACHE_CONTROL},
    )


class DocsAssets:
    """The Swagger UI and ReDoc files, which browsers may keep (the default for every other
    answer is not to be stored at all)."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=ASSETS_DIRECTORY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_cacheable(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"cache-control", ASSET_CACHE_CONTROL.encode()),
                ]
            await send(message)

        await self.files(scope, receive, send_cacheable)


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serves /docs and /redoc for the document at ``openapi_url``, and their files."""
    app.add_route(f"{ASSETS_PATH}/{REDOC_SCRIPT}", _redoc_script_response, include_in_schema=False)
    app.mount(ASSETS_PATH, DocsAssets(), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )
        return _with_policy(page)

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_PATH}/{REDOC_SCRIPT}",
            redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
        return _with_policy(page)
