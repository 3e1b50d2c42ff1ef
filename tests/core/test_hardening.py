"""Response hardening: security headers, CORS, the documentation pages, the body size limit,
and no Server header from `iqt serve`, with development and production settings."""

import base64
import hashlib
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.auth.tokens import issue_token
from app.core.credential_keys import CredentialKey
from app.core.security_headers import SecurityHeadersMiddleware
from app.core.settings import Settings
from tests.conftest import ROOT, AppClient
from tests.keys import PRODUCTION_CREDENTIAL_KEY, PRODUCTION_CREDENTIAL_KEYS

HARDENING = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}
PRODUCTION_KEY = "production-signing-key-0123456789abcdef0123456789"
ORIGIN = "https://dashboard.example.nhs.wales"


def production(**changes: Any) -> dict[str, Any]:
    return {
        "environment": "production",
        "token_signing_key": PRODUCTION_KEY,
        "credential_signing_keys": [
            CredentialKey(kid="production", private_key=PRODUCTION_CREDENTIAL_KEY)
        ],
        **changes,
    }


def assert_hardened(response: httpx.Response) -> None:
    for name, value in HARDENING.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert "server" not in response.headers


async def test_every_kind_of_answer_carries_the_security_headers(
    client: httpx.AsyncClient,
) -> None:
    answers = [
        await client.get("/_ping"),
        await client.get("/staff/100001"),  # 401
        await client.get("/no/such/path"),  # 404
        await client.delete("/_ping"),  # 405
        await client.post("/oauth2/token", content=b"{", headers={"content-type": "text/x"}),
    ]
    assert [a.status_code for a in answers][:4] == [200, 401, 404, 405]
    for answer in answers:
        assert_hardened(answer)


async def test_production_answers_carry_the_security_headers(app_client: AppClient) -> None:
    async with app_client(**production()) as client:
        for path in ("/_ping", "/staff/100001", "/no/such/path"):
            assert_hardened(await client.get(path))


def _tiny_app(headers: dict[str, str]) -> httpx.AsyncClient:
    async def page(_: Any) -> PlainTextResponse:
        return PlainTextResponse("hello", headers=headers)

    app = SecurityHeadersMiddleware(Starlette(routes=[Route("/", page)]))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_route_that_sets_its_own_cache_control_or_policy_keeps_it() -> None:
    own = {"Cache-Control": "public, max-age=60", "Content-Security-Policy": "sandbox"}
    async with _tiny_app(own) as client:
        response = await client.get("/")
    assert response.headers.get_list("cache-control") == ["public, max-age=60"]
    assert response.headers.get_list("content-security-policy") == ["sandbox"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_a_server_header_set_by_the_application_is_dropped() -> None:
    async with _tiny_app({"Server": "starlette/1.0"}) as client:
        response = await client.get("/")
    assert "server" not in response.headers


async def test_cors_is_off_unless_origins_are_configured(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/staff/100001",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    plain = await client.get("/_ping", headers={"Origin": ORIGIN})
    for response in (preflight, plain):
        assert not [h for h in response.headers if h.startswith("access-control-")]


async def test_cors_answers_the_configured_origins_only(app_client: AppClient) -> None:
    async with app_client(**production(cors_origins=[ORIGIN])) as client:
        allowed = await client.options(
            "/staff/100001",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        other = await client.options(
            "/staff/100001",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        simple = await client.get("/_ping", headers={"Origin": ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-credentials" not in allowed.headers
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example"]', ["https://a.example"]),
        ("", []),
    ],
)
def test_cors_origins_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    monkeypatch.setenv("IQT_CORS_ORIGINS", value)
    assert Settings(_env_file=None).cors_origins == origins  # type: ignore[call-arg]


_SCRIPT_SOURCE = re.compile(r'<script src="([^"]+)"')
_STYLE_SOURCE = re.compile(r'<link[^>]*href="([^"]+)"')
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _directive(policy: str, name: str) -> list[str]:
    for directive in policy.split(";"):
        words = directive.split()
        if words and words[0] == name:
            return words[1:]
    return []


def _origin(url: str) -> str:
    """The CSP source that allows ``url``: 'self' for a path on this service."""
    return "'self'" if url.startswith("/") else "/".join(url.split("/")[:3])


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_documentation_pages_are_served_with_a_policy_that_lets_them_load(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert _directive(policy, "frame-ancestors") == ["'none'"]
    assert _directive(policy, "default-src") == ["'none'"]
    scripts = _SCRIPT_SOURCE.findall(response.text)
    assert scripts, "the page loads its script"
    for url in scripts:
        assert _origin(url) in _directive(policy, "script-src"), url
    for url in _STYLE_SOURCE.findall(response.text):
        allowed = _directive(policy, "style-src") + _directive(policy, "img-src")
        assert _origin(url) in allowed, url
    for inline in _INLINE_SCRIPT.findall(response.text):
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in _directive(policy, "script-src")
    assert "'unsafe-inline'" not in _directive(policy, "script-src")
    assert "'self'" in _directive(policy, "connect-src")  # fetches /openapi.json, tries calls
    assert (await client.get("/openapi.json")).status_code == 200


async def test_the_documentation_is_off_in_production(app_client: AppClient) -> None:
    async with app_client(**production()) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"


async def test_the_documentation_can_be_switched_on_in_production(
    app_client: AppClient,
) -> None:
    async with app_client(**production(docs_enabled=True)) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 200, path


async def test_the_documentation_can_be_switched_off_in_development(
    app_client: AppClient,
) -> None:
    async with app_client(docs_enabled=False) as client:
        assert (await client.get("/docs")).status_code == 404


async def test_a_declared_body_over_the_limit_is_a_413_problem(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    too_big = b"x" * (settings.max_request_body_bytes + 1)
    response = await client.post(
        "/completions", content=too_big, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "https://iqt.nhs.wales/problems/payload-too-large"
    assert_hardened(response)


async def test_a_streamed_body_over_the_limit_is_a_413_problem(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(settings.max_request_body_bytes // 65536 + 2):
            yield b"x" * 65536

    response = await client.post(
        "/completions", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["type"] == "https://iqt.nhs.wales/problems/payload-too-large"


async def test_a_body_at_the_limit_is_read(client: httpx.AsyncClient, settings: Settings) -> None:
    at_limit = b" " * (settings.max_request_body_bytes - 2) + b"{}"
    response = await client.post(
        "/completions", content=at_limit, headers={"content-type": "application/json"}
    )
    assert response.status_code == 401  # read, then refused for want of a token


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _metrics_directories(root: Path) -> list[Path]:
    return list(root.glob("iqt-metrics-*"))


# Generous: only a server that never starts (or never stops) should meet it, however busy the
# machine is.
SERVER_BOUND = 120


def wait_for_workers_started(server: subprocess.Popen[str], workers: int) -> None:
    """Returns once every worker has said its application started (uvicorn's log line on
    stderr): from then on the socket is bound and each worker answers. Fails if the server
    exits first, or has not started within SERVER_BOUND seconds. stderr is read to its end
    meanwhile, so the server never blocks on a full pipe."""
    assert server.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def read_stderr(stream: IO[str]) -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read_stderr, args=(server.stderr,), daemon=True).start()
    said: list[str] = []
    started = 0
    deadline = time.monotonic() + SERVER_BOUND
    while started < workers:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0))
        except queue.Empty:
            pytest.fail(f"the server did not start in {SERVER_BOUND} s: {said}")
        if line is None:
            pytest.fail(f"the server exited ({server.wait()}) before it started: {said}")
        said.append(line)
        started += "Application startup complete" in line


@pytest.mark.slow  # real server processes
def test_iqt_serve_with_two_workers_sends_no_server_header_and_sums_their_metrics(
    tmp_path: Path,
) -> None:
    """A real `iqt serve --workers 2`: no Server header, /metrics answered from the workers'
    shared directory, which is removed when the server stops."""
    port = _free_port()
    environment = {
        **os.environ,
        "IQT_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "IQT_RUN_BACKGROUND_JOBS": "false",
        "IQT_LOG_LEVEL": "WARNING",
        "IQT_ENVIRONMENT": "production",
        "IQT_TOKEN_SIGNING_KEY": PRODUCTION_KEY,
        "IQT_CREDENTIAL_SIGNING_KEYS": PRODUCTION_CREDENTIAL_KEYS,
        "TMPDIR": str(tmp_path),
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-c", "from app.cli import cli; cli()", "serve"]
    server = subprocess.Popen(  # noqa: S603 - our own command
        [*command, "--port", str(port), "--workers", "2", "--log-level", "info"],
        cwd=ROOT,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    signing = Settings(**production(), _env_file=None)  # type: ignore[call-arg]
    token = issue_token(signing, "prometheus", ["metrics:read"], None)
    try:
        wait_for_workers_started(server, 2)
        # Slow answers on a busy machine are waited for, not failed.
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=SERVER_BOUND
        ) as client:
            answers = [client.get("/_ping") for _ in range(20)]
            metrics = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert len(_metrics_directories(tmp_path)) == 1
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=SERVER_BOUND)
    for answer in [*answers, metrics]:
        assert answer.status_code == 200
        assert "server" not in answer.headers
        assert answer.headers["x-content-type-options"] == "nosniff"
    pings = [
        sample.value
        for family in text_string_to_metric_families(metrics.text)
        for sample in family.samples
        if sample.name == "iqt_http_requests_total" and sample.labels["route"] == "/_ping"
    ]
    assert sum(pings) == 20  # every answered ping, whichever worker answered it
    assert _metrics_directories(tmp_path) == []
