"""Behind a load balancer: the per-address token limit counts the clients the trusted proxy
names, served as `iqt serve` serves (uvicorn with the options it passes)."""

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app import cli
from app.core.settings import Settings
from tests.ratelimits.conftest import AppFactory
from tests.servers import served

GUESS = {"grant_type": "client_credentials", "client_secret": "x"}


async def _guesses(base: str, forwarded_for: str, times: int, start: int) -> list[int]:
    async with httpx.AsyncClient(base_url=base) as proxy:
        return [
            (
                await proxy.post(
                    "/oauth2/token",
                    data={**GUESS, "client_id": f"iqt_guess_{start + n}"},
                    headers={"X-Forwarded-For": forwarded_for},
                )
            ).status_code
            for n in range(times)
        ]


async def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_token_count(
    make_limited_app: AppFactory, settings: Settings
) -> None:
    trusting = settings.model_copy(update={"forwarded_allow_ips": "127.0.0.1"})
    app = make_limited_app(token_rate_limit="2/minute")
    async with served(app, trusting) as base:
        assert await _guesses(base, "203.0.113.7", 3, 0) == [401, 401, 429]
        assert await _guesses(base, "198.51.100.9", 2, 10) == [401, 401]


async def test_without_trusted_proxies_the_header_is_ignored(
    make_limited_app: AppFactory, settings: Settings
) -> None:
    """Anyone may send X-Forwarded-For: unless the peer is a trusted proxy, it names nobody."""
    app = make_limited_app(token_rate_limit="2/minute")
    async with served(app, settings) as base:
        assert await _guesses(base, "203.0.113.7", 2, 0) == [401, 401]
        assert await _guesses(base, "198.51.100.9", 1, 10) == [429]


def test_iqt_serve_passes_the_trusted_proxies_to_uvicorn(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    passed: dict[str, Any] = {}
    trusting = settings.model_copy(update={"forwarded_allow_ips": "10.0.0.0/8,192.0.2.1"})
    monkeypatch.setattr(cli, "get_settings", lambda: trusting)
    monkeypatch.setattr("app.core.migrations.upgrade_to_head", lambda url: None)
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **options: passed.update(options))
    cli.serve(host="0.0.0.0", port=8000, workers=1)  # noqa: S104
    assert passed["proxy_headers"] is True
    assert passed["forwarded_allow_ips"] == "10.0.0.0/8,192.0.2.1"


@pytest.mark.parametrize("value", ["10.0.0.0/8, lb.internal", "*,10.0.0.1"])
def test_trusted_proxies_are_addresses_or_networks(value: str) -> None:
    make: Callable[..., Settings] = Settings
    with pytest.raises(ValidationError):
        make(forwarded_allow_ips=value, _env_file=None)
