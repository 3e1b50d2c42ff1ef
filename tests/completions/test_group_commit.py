"""Single completions posted together are written in one transaction, and each request still
gets exactly the answer, the events and the audit record it would get on its own."""

import asyncio
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.completions import service
from app.core.group_commit import GroupCommit
from app.models import AuditRecord, Award
from tests.completions.factories import (
    COMPLETION_SCOPES,
    completion,
    count_completions,
    count_events,
    post,
)
from tests.conftest import PATIENCE, auth
from tests.staff.factories import person


@pytest.fixture
def install_groups(app: Any) -> Iterator[Callable[[GroupCommit[Any, Any]], None]]:
    """Replaces the app's group commit for one test (starlette's State is not monkeypatchable)."""
    original = app.state.completion_groups

    def install(groups: GroupCommit[Any, Any]) -> None:
        app.state.completion_groups = groups

    yield install
    app.state.completion_groups = original


def app_groups(app: Any, write: Any) -> GroupCommit[Any, Any]:
    """A group commit made as the app makes its own, with another write."""
    return GroupCommit(
        app.state.sessionmaker,
        write,
        key=service.same_completion,
        kind=service.same_client,
        max_items=100,
    )


class ArrivalsNoted(GroupCommit[Any, Any]):
    """The app's group commit, noting the items submitted to it: ``arrived`` is set once
    ``expected`` items have been."""

    def __init__(self, *args: Any, expected: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected, self.count = expected, 0
        self.arrived = asyncio.Event()

    async def submit(self, item: Any) -> Any:
        self.count += 1
        if self.count >= self.expected:
            self.arrived.set()
        return await super().submit(item)


def counted_groups(
    app: Any,
    install: Callable[[GroupCommit[Any, Any]], None],
    clients: list[set[str]] | None = None,
    *,
    together: int | None = None,
) -> list[int]:
    """Installs a group commit with the real write, noting the size (and clients) of each group.

    With ``together``, the first group's write waits until that many items were submitted:
    the rest then arrive while a group is written, as they do under load, whatever the order
    the event loop runs the requests in."""
    sizes: list[int] = []

    async def write(
        session: AsyncSession, submissions: Sequence[service.Submission]
    ) -> list[service.Answer | Any]:
        if not sizes:
            async with asyncio.timeout(PATIENCE):
                await groups.arrived.wait()
        sizes.append(len(submissions))
        if clients is not None:
            clients.append({s.caller.client_id for s in submissions})
        return await service.record_group(session, submissions)

    groups = ArrivalsNoted(
        app.state.sessionmaker,
        write,
        key=service.same_completion,
        kind=service.same_client,
        max_items=100,
        expected=together or 0,
    )
    install(groups)
    return sizes


async def audit_records(app: Any) -> list[AuditRecord]:
    async with app.state.sessionmaker() as session:
        query = select(AuditRecord).where(AuditRecord.resource_type == "completion")
        return list(await session.scalars(query))


async def test_completions_posted_together_share_transactions_and_each_gets_its_answer(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    install_groups: Callable[[GroupCommit[Any, Any]], None],
) -> None:
    numbers = [str(200001 + i) for i in range(12)]
    for number in numbers:
        response = await client.put(f"/staff/{number}", json=person(number), headers=auth(admin))
        assert response.status_code == 201, response.text
    sizes = counted_groups(app, install_groups, together=len(numbers))

    bodies = [completion(f"together-{n}", number=n) for n in numbers]
    responses = await asyncio.gather(*(post(client, platform, body) for body in bodies))

    assert [r.status_code for r in responses] == [201] * len(numbers), [r.text for r in responses]
    assert sum(sizes) == len(numbers)
    assert len(sizes) == 2, sizes  # the first group, then all that arrived meanwhile
    for body, response in zip(bodies, responses, strict=True):
        answer = response.json()
        assert answer["externalId"] == body["externalId"]
        assert answer["matchedEmployeeNumber"] == body["employeeNumber"]
        assert response.headers["Location"].endswith(f"/completions/{answer['id']}")
        again = await client.get(response.headers["Location"], headers=auth(platform))
        assert again.json() == answer
    assert await count_completions(app) == len(numbers)
    assert await count_events(app, "completionRecorded") == len(numbers)
    assert await count_events(app, "awardGranted") == len(numbers)
    async with app.state.sessionmaker() as session:
        bronze_holders = await session.scalars(select(Award.staff_id))
        assert len(set(bronze_holders)) == len(numbers)
    created = [r for r in await audit_records(app) if r.action == "create"]
    assert sorted((r.request_id, r.resource_id, r.outcome) for r in created) == sorted(
        (r.headers["X-Request-Id"], str(r.json()["id"]), "success") for r in responses
    )


async def test_a_group_answers_repeats_conflicts_and_refusals_as_each_would_alone(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    install_groups: Callable[[GroupCommit[Any, Any]], None],
) -> None:
    stored = await post(client, platform, completion("stored-1"))
    assert stored.status_code == 201, stored.text
    requests = {
        "new": completion("new-1"),
        "repeat": completion("stored-1"),
        "conflict": completion("stored-1", passed=False),
        "unknown course": completion("new-2", courseCode="NO-SUCH-COURSE"),
        "twin a": completion("twin"),
        "twin b": completion("twin"),
    }
    sizes = counted_groups(app, install_groups, together=len(requests))
    responses = dict(
        zip(
            requests,
            await asyncio.gather(*(post(client, platform, b) for b in requests.values())),
            strict=True,
        )
    )

    assert max(sizes) > 1, sizes
    assert responses["new"].status_code == 201
    assert responses["repeat"].status_code == 200
    assert responses["repeat"].json() == stored.json()
    assert responses["conflict"].status_code == 409
    assert [p["name"] for p in responses["conflict"].json()["invalidParams"]] == ["passed"]
    assert responses["unknown course"].status_code == 422
    assert responses["unknown course"].json()["invalidParams"][0]["name"] == "courseCode"
    twins = sorted(r.status_code for k, r in responses.items() if k.startswith("twin"))
    assert twins == [200, 201]
    assert responses["twin a"].json()["id"] == responses["twin b"].json()["id"]
    assert await count_completions(app) == 3  # stored-1, new-1, twin
    assert await count_events(app, "completionRecorded") == 3
    outcomes = sorted((r.request_id, r.outcome, r.status_code) for r in await audit_records(app))
    expected = sorted(
        (
            r.headers["X-Request-Id"],
            "success" if r.status_code < 400 else "failure",
            r.status_code if r.status_code >= 400 else None,
        )
        for r in [stored, *responses.values()]
    )
    assert outcomes == expected


async def test_when_a_group_fails_each_request_is_written_alone(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    install_groups: Callable[[GroupCommit[Any, Any]], None],
) -> None:
    async def deadlocked(session: AsyncSession, submissions: Sequence[Any]) -> list[Any]:
        await service.record_group(session, submissions)  # written, then the group fails
        raise RuntimeError("deadlock detected")

    install_groups(app_groups(app, deadlocked))

    responses = await asyncio.gather(
        *(post(client, platform, completion(f"alone-{i}")) for i in range(5))
    )

    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert await count_completions(app) == 5
    assert await count_events(app, "completionRecorded") == 5
    records = await audit_records(app)
    assert sorted(r.request_id for r in records) == sorted(
        r.headers["X-Request-Id"] for r in responses
    )


async def test_a_group_holds_one_clients_completions(
    client: httpx.AsyncClient,
    app: Any,
    admin: dict[str, str],
    platform: dict[str, str],
    make_client: Any,
    install_groups: Callable[[GroupCommit[Any, Any]], None],
) -> None:
    """One client per group: its completions take their locks in one sorted pass, as a batch
    does (two clients' passes in one transaction could deadlock with another group)."""
    other = await make_client(scopes=COMPLETION_SCOPES, name="ESR learning")
    clients: list[set[str]] = []

    sent = [
        (creds, completion(f"{name}-{i}", number=str(300001 + i)))
        for i in range(6)
        for name, creds in (("moodle", platform), ("esr", other))
    ]
    sizes = counted_groups(app, install_groups, clients, together=len(sent))
    responses = await asyncio.gather(*(post(client, creds, body) for creds, body in sent))

    assert [r.status_code for r in responses] == [201] * len(sent), [r.text for r in responses]
    assert all(len(group) == 1 for group in clients), clients
    assert sum(sizes) == len(sent)
    assert max(sizes) > 1, sizes
    for (creds, body), response in zip(sent, responses, strict=True):
        assert response.json()["externalId"] == body["externalId"]
        assert response.json()["source"] == creds["client_id"]
