"""The Redis store: a counter always expires, whatever happens between its commands."""

from typing import Any

import coredis
import pytest
from limits import RateLimitItemPerSecond

from app.core.settings import Settings
from app.ratelimits.redis_store import KEY_PREFIX
from tests.ratelimits.conftest import REDIS_URL, AppFactory, http, new_client


@pytest.mark.parametrize("store", ["redis"])
async def test_a_counter_expires_though_the_connection_is_lost_after_the_first_command(
    store: str, make_limited_app: AppFactory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection to Redis is cut after the first command of a client's first request:
    its counter must still expire, or the client would be refused for ever once over it."""
    app = make_limited_app(rate_limit="2/minute")
    warm, cut = await new_client(app, settings), await new_client(app, settings)
    async with http(app) as client:
        # Anything the store sets up once (a script loaded, a connection made) is done.
        assert (await client.get("/organisations", headers=warm)).status_code == 200
        real = coredis.Redis.execute_command
        sent: list[Any] = []

        async def cut_after_the_first(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(command.name)
            if len(sent) > 1:
                raise coredis.exceptions.ConnectionError("connection lost")
            return await real(self, command, *args, **kwargs)

        monkeypatch.setattr(coredis.Redis, "execute_command", cut_after_the_first)
        await client.get("/organisations", headers=cut)
        monkeypatch.undo()
    counter = KEY_PREFIX + ":" + RateLimitItemPerSecond(2, 60).key_for(f"client:{cut['client_id']}")
    redis: coredis.Redis[bytes] = coredis.Redis.from_url(REDIS_URL)
    assert int(await redis.get(counter) or 0) == 1
    assert 0 < await redis.pttl(counter) <= 60_000
