"""GroupCommit on its own: who shares a group, and what a failed group answers."""

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from app.core.group_commit import GroupCommit


class FakeSession:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def __aenter__(self) -> "FakeSession":
        return self

    async def __aexit__(self, *_: object) -> None:
        self.log.append("closed")

    async def commit(self) -> None:
        self.log.append("commit")


class Writer:
    """Writes groups of (key, value) items, noting each group; fails when told to."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.groups: list[list[str]] = []
        self.fail = False

    def sessionmaker(self) -> FakeSession:
        return FakeSession(self.log)

    async def write(self, _: Any, items: Sequence[tuple[str, str]]) -> list[str]:
        self.groups.append([value for _, value in items])
        await asyncio.sleep(0.01)  # the database at work: later items queue meanwhile
        if self.fail:
            raise RuntimeError("deadlock detected")
        return [f"stored {value}" for _, value in items]


def group_commit(
    writer: Writer, max_items: int = 100, linger: float = 0.0
) -> GroupCommit[tuple[str, str], str]:
    return GroupCommit(
        writer.sessionmaker,  # type: ignore[arg-type]
        writer.write,
        key=lambda item: item[0],
        max_items=max_items,
        linger=linger,
    )


async def test_items_arriving_while_a_group_is_written_share_the_next_group() -> None:
    writer = Writer()
    groups = group_commit(writer)

    first = asyncio.create_task(groups.submit(("a", "1")))
    await asyncio.sleep(0)  # the first group starts with item 1 alone
    rest = [groups.submit((key, key)) for key in "bcde"]

    assert await asyncio.gather(first, *rest) == [
        "stored 1",
        "stored b",
        "stored c",
        "stored d",
        "stored e",
    ]
    assert writer.groups == [["1"], ["b", "c", "d", "e"]]
    assert writer.log == ["commit", "closed", "commit", "closed"]


async def test_items_with_the_same_key_never_share_a_group() -> None:
    writer = Writer()
    groups = group_commit(writer)

    answers = await asyncio.gather(*(groups.submit((key, str(i))) for i, key in enumerate("aab")))

    assert answers == ["stored 0", "stored 1", "stored 2"]
    assert writer.groups == [["0", "2"], ["1"]]


async def test_a_group_holds_at_most_max_items() -> None:
    writer = Writer()
    groups = group_commit(writer, max_items=2)

    await asyncio.gather(*(groups.submit((key, key)) for key in "abcde"))

    assert writer.groups == [["a", "b"], ["c", "d"], ["e"]]


async def test_a_failed_group_answers_none_and_is_not_committed() -> None:
    writer = Writer()
    writer.fail = True
    groups = group_commit(writer)

    answers = await asyncio.gather(*(groups.submit((key, key)) for key in "ab"))

    assert answers == [None, None]
    assert "commit" not in writer.log
    writer.fail = False
    assert await groups.submit(("c", "c")) == "stored c"  # the next group is written


async def test_a_request_that_went_away_is_not_written() -> None:
    writer = Writer()
    groups = group_commit(writer)
    first = asyncio.create_task(groups.submit(("a", "a")))
    await asyncio.sleep(0)
    gone = asyncio.create_task(groups.submit(("b", "b")))
    kept = asyncio.create_task(groups.submit(("c", "c")))
    await asyncio.sleep(0)
    gone.cancel()

    assert await asyncio.gather(first, kept) == ["stored a", "stored c"]
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert writer.groups == [["a"], ["c"]]


@pytest.mark.parametrize(("linger", "groups"), [(0.0, [4, 1, 2]), (0.1, [4, 3])])
async def test_under_load_the_next_group_lingers_for_the_clients_just_answered(
    linger: float, groups: list[int]
) -> None:
    writer = Writer()
    group_commit_ = group_commit(writer, linger=linger)
    first = [asyncio.create_task(group_commit_.submit((key, key))) for key in "abcd"]
    await asyncio.sleep(0.005)  # a, b, c, d are being written
    late = [asyncio.create_task(group_commit_.submit(("e", "e")))]
    await asyncio.gather(*first)  # one waits after a group of four: the writer lingers
    late += [asyncio.create_task(group_commit_.submit((key, key))) for key in "fg"]

    await asyncio.gather(*late)

    assert [len(group) for group in writer.groups] == groups


async def test_a_lone_item_after_a_quiet_spell_does_not_linger() -> None:
    writer = Writer()
    group_commit_ = group_commit(writer, linger=10.0)

    await asyncio.wait_for(group_commit_.submit(("a", "a")), timeout=1)
    await asyncio.wait_for(group_commit_.submit(("b", "b")), timeout=1)
