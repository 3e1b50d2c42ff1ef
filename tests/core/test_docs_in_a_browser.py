"""/docs and /redoc opened in headless Chromium, on a network where only the service answers:
the operations render, the console stays silent, and no request leaves the service."""

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.core.settings import Settings
from tests.servers import served

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_SECONDS = 120  # a generous bound on the browser process, never reached when it works
# What the page shows once its script has built it from /openapi.json (before, it is empty).
RENDERED = {
    "/docs": ['data-path="/organisations"', 'class="opblock-summary-path"'],
    "/redoc": ["List organisations", "/organisations/{odsCode}"],
}


def _chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {CHROMIUM} is missing (.ci/run installs Debian's chromium)")
    pytest.skip("needs Chromium")


async def _open(browser: Path, url: str, profile: Path) -> tuple[str, list[str], list[str]]:
    """The page's DOM once its scripts have run, the browser's console messages, and the URLs
    the page asked for. Every name but 127.0.0.1 fails to resolve, as behind a blocked CDN."""
    net_log = profile / "net-log.json"
    process = await asyncio.create_subprocess_exec(
        str(browser),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--enable-logging=stderr",
        "--v=0",
        f"--log-net-log={net_log}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    dom, log = await asyncio.wait_for(process.communicate(), BROWSER_SECONDS)
    assert process.returncode == 0, log.decode(errors="replace")[-2000:]
    console = [line for line in log.decode(errors="replace").splitlines() if ":CONSOLE" in line]
    return dom.decode(), console, _requested_by(json.loads(net_log.read_text()), url)


def _requested_by(net_log: dict[str, Any], url: str) -> list[str]:
    """The URLs of the requests the page at ``url`` made (not the browser's own)."""
    origin = "/".join(url.split("/")[:3])
    return sorted(
        {
            params["url"]
            for event in net_log["events"]
            if (params := event.get("params") or {}).get("initiator") == origin and "url" in params
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_interactive_docs_render_with_no_request_leaving_the_service(
    app: FastAPI, settings: Settings, tmp_path: Path, page: str
) -> None:
    browser = _chromium()
    async with served(app, settings) as base:
        dom, console, requested = await _open(browser, base + page, tmp_path)

    for rendered in RENDERED[page]:
        assert rendered in dom, f"{page} did not render its operations"
    assert console == []
    assert requested, "the page loaded nothing"
    assert [url for url in requested if not url.startswith(base + "/")] == []
    assert f"{base}/openapi.json" in requested
