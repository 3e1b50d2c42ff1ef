from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.auth.caller import Caller
from app.awards import evaluation
from app.models import ApiClient
from tests.completions.factories import BRONZE, BRONZE_ACTIVITY, COMPLETION_SCOPES
from tests.completions.xapi_examples import HOME_PAGE
from tests.conftest import ClientFactory, auth
from tests.staff.factories import person, seed_organisations

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
    """The awards entry point decides nothing (to count only this domain's statements)."""

    async def nothing(session: Any, staff_ids: Sequence[int], caller: Caller | None) -> None:
        return None

    monkeypatch.setattr(evaluation, "evaluate_awards", nothing)


@pytest.fixture
async def lms(admin: dict[str, str], app: Any, make_client: ClientFactory) -> dict[str, str]:
    """A platform sending xAPI, its account homePage configured."""
    creds = await make_client(scopes=COMPLETION_SCOPES, name="LMS")
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(ApiClient)
            .where(ApiClient.client_id == creds["client_id"])
            .values(xapi_account_home_page=HOME_PAGE)
        )
        await session.commit()
    return creds


@pytest.fixture
async def learner(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    """The staff member the specification's example learner is (account name, mbox)."""
    body = person("13936749", workEmail="Example.Learner@adlnet.gov")
    response = await client.put("/staff/13936749", json=body, headers=auth(admin))
    assert response.status_code == 201
    return dict(response.json())
