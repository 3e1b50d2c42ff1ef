"""GroupCommit on its own: who shares a group, and what a failed group answers."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from app.core.group_commit import GroupCommit

# Only a broken GroupCommit leaves a request waiting: a bound that fails it rather than hang.
HANG = 60


class FakeSession:
    def __init__(self, log: list[str], commit_error: Exception | None = None) -> None:
        self.log = log
        self.commit_error = commit_error

    async def __aenter__(self) -> "FakeSession":
        return self

    async def __aexit__(self, *_: object) -> None:
        self.log.append("closed")

    async def commit(self) -> None:
        if self.commit_error is not None:
            raise self.commit_error
        self.log.append("commit")


class Writer:
    """Writes groups of (key, value) items, noting each group; fails when told to.

    ``answering`` is the database's answer: set, a write is answered at its next turn of the
    event loop; cleared, writes wait until the test sets it. ``writing`` is set once a group
    has reached the database."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.groups: list[list[str]] = []
        self.fail = False
        self.commit_error: Exception | None = None
        self.writing = asyncio.Event()
        self.answering = asyncio.Event()
        self.answering.set()

    def sessionmaker(self) -> FakeSession:
        return FakeSession(self.log, self.commit_error)

    async def write(self, _: Any, items: Sequence[tuple[str, str]]) -> list[str]:
        self.groups.append([value for _, value in items])
        self.writing.set()
        await asyncio.sleep(0)  # the database at work: later items queue meanwhile
        await self.answering.wait()
        if self.fail:
            raise RuntimeError("deadlock detected")
        return [f"stored {value}" for _, value in items]


class Linger:
    """The writer's sleep: notes what it was asked to wait, and lingers until the test opens
    ``gate``."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.gate = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self.gate.wait()


def group_commit(
    writer: Writer,
    max_items: int = 100,
    linger: float = 0.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> GroupCommit[tuple[str, str], str]:
    """Items are (key, value); the kind of an item is its value's first letter."""
    return GroupCommit(
        writer.sessionmaker,  # type: ignore[arg-type]
        writer.write,
        key=lambda item: item[0],
        kind=lambda item: item[1][0],
        max_items=max_items,
        linger=linger,
        sleep=sleep,
    )


async def queued() -> None:
    """One turn of the event loop: tasks just created have handed their items over."""
    await asyncio.sleep(0)


async def test_items_arriving_while_a_group_is_written_share_the_next_group() -> None:
    writer = Writer()
    writer.answering.clear()
    groups = group_commit(writer)

    first = asyncio.create_task(groups.submit(("a", "1")))
    await writer.writing.wait()  # the first group starts with item 1 alone
    rest = [asyncio.create_task(groups.submit((key, "x" + key))) for key in "bcde"]
    await queued()
    writer.answering.set()

    assert await asyncio.gather(first, *rest) == [
        "stored 1",
        "stored xb",
        "stored xc",
        "stored xd",
        "stored xe",
    ]
    assert writer.groups == [["1"], ["xb", "xc", "xd", "xe"]]
    assert writer.log == ["commit", "closed", "commit", "closed"]


async def test_items_with_the_same_key_never_share_a_group() -> None:
    writer = Writer()
    groups = group_commit(writer)

    answers = await asyncio.gather(*(groups.submit((key, f"x{i}")) for i, key in enumerate("aab")))

    assert answers == ["stored x0", "stored x1", "stored x2"]
    assert writer.groups == [["x0", "x2"], ["x1"]]


async def test_a_group_holds_items_of_one_kind() -> None:
    writer = Writer()
    groups = group_commit(writer)

    items = [("a", "x1"), ("b", "y1"), ("c", "x2"), ("d", "y2")]
    await asyncio.gather(*(groups.submit(item) for item in items))

    assert writer.groups == [["x1", "x2"], ["y1", "y2"]]


async def test_a_group_holds_at_most_max_items() -> None:
    writer = Writer()
    groups = group_commit(writer, max_items=2)

    await asyncio.gather(*(groups.submit((key, "x" + key)) for key in "abcde"))

    assert writer.groups == [["xa", "xb"], ["xc", "xd"], ["xe"]]


async def test_a_failed_group_answers_none_and_is_not_committed() -> None:
    writer = Writer()
    writer.fail = True
    groups = group_commit(writer)

    answers = await asyncio.gather(*(groups.submit((key, "x" + key)) for key in "ab"))

    assert answers == [None, None]
    assert "commit" not in writer.log
    writer.fail = False
    assert await groups.submit(("c", "c")) == "stored c"  # the next group is written


async def test_a_commit_left_unanswered_fails_every_request_of_the_group() -> None:
    writer = Writer()
    writer.commit_error = sa_exc.TimeoutError("the connection went away during COMMIT")
    groups = group_commit(writer)

    answers = await asyncio.gather(
        *(groups.submit((key, "x" + key)) for key in "ab"), return_exceptions=True
    )

    assert [type(a) for a in answers] == [sa_exc.TimeoutError, sa_exc.TimeoutError]


async def test_waiting_items_are_written_alone_when_the_writer_is_cancelled() -> None:
    writer = Writer()
    writer.answering.clear()
    groups = group_commit(writer)
    first = asyncio.create_task(groups.submit(("a", "xa")))
    await writer.writing.wait()
    waiting = asyncio.create_task(groups.submit(("b", "xb")))
    await queued()
    assert groups._writer is not None
    groups._writer.cancel()

    assert await asyncio.gather(first, waiting) == [None, None]
    assert "commit" not in writer.log


async def test_a_writer_cancelled_before_it_ran_strands_no_one() -> None:
    writer = Writer()
    groups = group_commit(writer)
    stranded = asyncio.create_task(groups.submit(("a", "xa")))
    await queued()  # the writer task exists but has not run yet
    assert groups._writer is not None
    groups._writer.cancel()
    await queued()

    async with asyncio.timeout(HANG):
        assert await groups.submit(("b", "xb")) == "stored xb"
        assert await stranded in (None, "stored xa")


async def test_a_request_that_went_away_is_not_written() -> None:
    writer = Writer()
    writer.answering.clear()
    groups = group_commit(writer)
    first = asyncio.create_task(groups.submit(("a", "a")))
    await writer.writing.wait()
    gone = asyncio.create_task(groups.submit(("b", "b")))
    kept = asyncio.create_task(groups.submit(("c", "c")))
    await queued()
    gone.cancel()
    writer.answering.set()

    assert await asyncio.gather(first, kept) == ["stored a", "stored c"]
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert writer.groups == [["a"], ["c"]]


async def submit_while_four_are_written(
    writer: Writer, group_commit_: GroupCommit[tuple[str, str], str]
) -> list[asyncio.Task[str | None]]:
    """a, b, c, d are written as one group while e arrives; once they are answered, f and g
    (their clients' next requests) arrive. Returns the tasks of e, f and g."""
    writer.answering.clear()
    first = [asyncio.create_task(group_commit_.submit((key, "x" + key))) for key in "abcd"]
    await writer.writing.wait()  # a, b, c, d are being written
    late = [asyncio.create_task(group_commit_.submit(("e", "xe")))]
    await queued()
    writer.answering.set()
    await asyncio.gather(*first)  # one waits after a group of four: the writer lingers
    late += [asyncio.create_task(group_commit_.submit((key, "x" + key))) for key in "fg"]
    await queued()
    return late


async def test_under_load_the_next_group_lingers_for_the_clients_just_answered() -> None:
    writer, linger = Writer(), Linger()
    group_commit_ = group_commit(writer, linger=0.1, sleep=linger)

    late = await submit_while_four_are_written(writer, group_commit_)
    assert linger.asked == [0.1]
    linger.gate.set()  # the linger is over
    await asyncio.gather(*late)

    assert [len(group) for group in writer.groups] == [4, 3]
    assert linger.asked == [0.1]


async def test_without_linger_the_next_group_is_written_at_once() -> None:
    writer = Writer()
    group_commit_ = group_commit(writer, linger=0.0)

    await asyncio.gather(*await submit_while_four_are_written(writer, group_commit_))

    assert [len(group) for group in writer.groups] == [4, 1, 2]


async def test_a_lone_item_after_a_quiet_spell_does_not_linger() -> None:
    writer, linger = Writer(), Linger()  # its gate never opens: a linger would never end
    group_commit_ = group_commit(writer, linger=10.0, sleep=linger)

    async with asyncio.timeout(HANG):
        assert await group_commit_.submit(("a", "a")) == "stored a"
        assert await group_commit_.submit(("b", "b")) == "stored b"
    assert linger.asked == []


async def test_clients_in_two_halves_are_gathered_into_one_group() -> None:
    """Four items written while four more wait: once the four are answered, the next group
    lingers for their clients' next requests instead of going out with the four that waited.
    Counting only the last group's size, the clients stayed two half groups for good, each
    paying for every statement of a full one."""
    writer, linger = Writer(), Linger()
    group_commit_ = group_commit(writer, linger=0.1, sleep=linger)
    writer.answering.clear()
    first = [asyncio.create_task(group_commit_.submit((key, "x" + key))) for key in "abcd"]
    await writer.writing.wait()  # a, b, c, d are being written
    waiting = [asyncio.create_task(group_commit_.submit((key, "x" + key))) for key in "efgh"]
    await queued()
    writer.answering.set()
    await asyncio.gather(*first)
    answered_clients_again = [
        asyncio.create_task(group_commit_.submit((key, "x" + key))) for key in "ijkl"
    ]
    await queued()
    assert linger.asked == [0.1]
    linger.gate.set()
    await asyncio.gather(*waiting, *answered_clients_again)

    assert [len(group) for group in writer.groups] == [4, 8]
