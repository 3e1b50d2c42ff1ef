"""Every (state, action) pair of the lifecycle over HTTP, and one approval under contention."""

import asyncio
from typing import Any

import httpx
import pytest

from app.projects.lifecycle import ProjectAction, ProjectStatus, TransitionRefused, next_status
from tests.conftest import auth
from tests.projects.factories import project_in_state, review, submitted_project


# Every (state, action) pair through the API: the HTTP call that performs each action.
def _action_call(action: ProjectAction, path: str) -> tuple[str, dict[str, Any] | None]:
    if action is ProjectAction.SUBMIT:
        return f"{path}/submission", None
    if action is ProjectAction.WITHDRAW:
        return f"{path}/withdrawal", None
    return f"{path}/reviews", review("approved" if action is ProjectAction.APPROVE else "returned")


@pytest.mark.parametrize("state", list(ProjectStatus))
@pytest.mark.parametrize(
    "action",
    [ProjectAction.SUBMIT, ProjectAction.APPROVE, ProjectAction.RETURN, ProjectAction.WITHDRAW],
)
async def test_state_action_pair_over_http(
    client: httpx.AsyncClient, admin: dict[str, str], state: ProjectStatus, action: ProjectAction
) -> None:
    current = await project_in_state(client, admin, state)
    path = f"/improvementProjects/{current['id']}"
    url, body = _action_call(action, path)
    response = await client.post(url, json=body, headers=auth(admin))
    try:
        expected = next_status(state, action)
    except TransitionRefused as refused:
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["currentState"] == state
        assert problem["allowedActions"] == [str(a) for a in refused.allowed]
        assert (await client.get(path, headers=auth(admin))).json()["status"] == state
        return
    assert response.status_code in (200, 201), response.text
    assert (await client.get(path, headers=auth(admin))).json()["status"] == expected


@pytest.mark.postgresql
async def test_concurrent_approvals_approve_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    submitted = await submitted_project(client, admin)
    url = f"/improvementProjects/{submitted['id']}/reviews"
    responses = await asyncio.gather(
        *(client.post(url, json=review(), headers=auth(admin)) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    listed = (await client.get(url, headers=auth(admin))).json()["data"]
    assert len(listed) == 1
