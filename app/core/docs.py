"""/docs (Swagger UI) and /redoc, each with a Content-Security-Policy that lets it work.

The pages load their scripts, styles and fonts from public CDNs and run one inline script
(Swagger UI's start-up). Their policy allows exactly those: the CDN hosts, and the inline
scripts by their SHA-256 hash, computed from the page as rendered, so a FastAPI upgrade that
changes the page cannot silently break it or widen it. Framing stays forbidden.
"""

import base64
import hashlib
import re

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

DOCS_SOURCES = {
    "script-src": ["https://cdn.jsdelivr.net"],
    "style-src": ["https://cdn.jsdelivr.net", "https://fonts.googleapis.com", "'unsafe-inline'"],
    "font-src": ["https://fonts.gstatic.com"],
    "img-src": ["'self'", "data:", "https://fastapi.tiangolo.com", "https://cdn.redoc.ly"],
    "connect-src": ["'self'"],
    "worker-src": ["blob:"],
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


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serves /docs and /redoc for the document at ``openapi_url``."""

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        url = request.scope.get("root_path", "") + openapi_url
        return _with_policy(get_swagger_ui_html(openapi_url=url, title=f"{app.title} - Swagger UI"))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        url = request.scope.get("root_path", "") + openapi_url
        return _with_policy(get_redoc_html(openapi_url=url, title=f"{app.title} - ReDoc"))
