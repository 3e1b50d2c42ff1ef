from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from app.auth.caller import Caller
from app.awards import evaluation
from tests.completions.factories import BRONZE, BRONZE_ACTIVITY, COMPLETION_SCOPES
from tests.conftest import ClientFactory, auth
from tests.staff.factories import seed_organisations

BRONZE_COURSE = {
    "title": "Improving Quality Together: Bronze",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
    "xapiActivityIds": [BRONZE_ACTIVITY],
}


@pytest.fixture
async def admin(client: httpx.AsyncClient, make_client: ClientFactory) -> dict[str, str]:
    """Every scope, no restriction; the two organisations and the Bronze course exist."""
    creds = await make_client(name="admin")
    await seed_organisations(client, creds)
    response = await client.put(f"/courses/{BRONZE}", json=BRONZE_COURSE, headers=auth(creds))
    assert response.status_code == 201, response.text
    return creds


@pytest.fixture
async def platform(admin: dict[str, str], make_client: ClientFactory) -> dict[str, str]:
    """An e-learning platform: completions read and write, no organisation restriction."""
    return await make_client(scopes=COMPLETION_SCOPES, name="Learning@Wales")


class AwardCalls:
    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    @property
    def staff_ids(self) -> list[int]:
        return [staff_id for call in self.calls for staff_id in call]


@pytest.fixture
def award_calls(monkeypatch: pytest.MonkeyPatch) -> AwardCalls:
    """Records every call of the awards entry point (and still runs it)."""
    recorder = AwardCalls()
    real = evaluation.evaluate_awards

    async def recording(session: Any, staff_ids: Sequence[int], caller: Caller | None) -> None:
        recorder.calls.append(list(staff_ids))
        await real(session, staff_ids, caller)

    monkeypatch.setattr(evaluation, "evaluate_awards", recording)
    return recorder


@pytest.fixture
def no_award_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The awards entry point does nothing (to count only this domain's statements)."""

    async def nothing(session: Any, staff_ids: Sequence[int], caller: Caller | None) -> None:
        return None

    monkeypatch.setattr(evaluation, "evaluate_awards", nothing)
