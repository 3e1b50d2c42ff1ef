"""Where limits are set: the settings, and a client's own limit from `iqt clients create`."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.core.problems import ValidationFailed
from app.core.settings import Settings
from tests.test_cli import _rows, database, iqt

__all__ = ["database"]


@pytest.mark.parametrize("name", ["rate_limit", "token_rate_limit", "public_rate_limit"])
@pytest.mark.parametrize("value", ["lots", "0/minute", "1/second;100/minute"])
def test_a_setting_that_is_not_one_rate_limit_is_refused(name: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **{name: value})  # type: ignore[call-arg, arg-type]


async def test_a_client_rate_limit_that_is_not_a_rate_limit_is_refused(
    session: AsyncSession, settings: Settings
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await auth_service.create_client(
            session, settings, "x", ["organisations:read"], None, rate_limit="fast"
        )
    assert refused.value.invalid_params[0][0] == "rateLimit"


async def test_clients_create_stores_the_clients_own_rate_limit(database: Path) -> None:
    result = await iqt(
        "clients", "create", "--name", "HR", "--scopes", "staff:read", "--rate-limit", "5000/minute"
    )
    assert result.exit_code == 0, result.output
    client_id = json.loads(result.stdout)["clientId"]
    assert _rows(database, "SELECT client_id, rate_limit FROM api_clients") == [
        (client_id, "5000/minute")
    ]
    listed = await iqt("clients", "list")
    assert json.loads(listed.stdout)["rateLimit"] == "5000/minute"


async def test_clients_create_refuses_a_rate_limit_that_is_not_one(database: Path) -> None:
    result = await iqt(
        "clients", "create", "--name", "HR", "--scopes", "staff:read", "--rate-limit", "often"
    )
    assert result.exit_code == 2
    assert _rows(database, "SELECT count(*) FROM api_clients") == [(0,)]
