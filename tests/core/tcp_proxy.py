"""A TCP proxy a test controls, between the app and PostgreSQL, to cut the database off.

``cut()`` aborts every open connection and resets every new one until ``restore()`` (the
port stays bound: once closed, the system could hand it to an outgoing connection).
``partition()`` is a network partition: nothing more is relayed either way and new connections
get no answer, but nothing is closed, until ``heal()``. Bytes a client sent meanwhile are
delivered then, unless that client has given up and closed its connection (as its system would
have discarded them).
``cut_when(...)`` arms a cut at a chosen moment of the wire protocol: once the server has
received some bytes (say the text of an INSERT), or instead of relaying some bytes of the
server's answer back (say the ``COMMIT`` command tag, so that the transaction is committed
but the client never hears it).
"""

import asyncio
import contextlib
from dataclasses import dataclass

CHUNK = 65536


@dataclass(frozen=True)
class Step:
    """A pattern the proxy must see, in one direction, before the next step counts."""

    to_server: bool
    pattern: bytes


def sends(pattern: bytes) -> Step:
    """The client sends ``pattern`` to the server (it is relayed, then the next step counts)."""
    return Step(True, pattern)


def answers(pattern: bytes) -> Step:
    """The server answers ``pattern`` (as the last step: the answer is dropped, and cut)."""
    return Step(False, pattern)


class FaultyProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host, self.target_port = target_host, target_port
        self.port = 0
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._refusing = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._steps: list[Step] = []
        self._progress: dict[int, int] = {}  # per connection: how many steps it has shown
        self._tails: dict[tuple[int, bool], bytes] = {}
        self._clients: dict[int, asyncio.StreamWriter] = {}
        self._partition_at_last = False
        self._healed = asyncio.Event()
        self._healed.set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        await self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def cut(self) -> None:
        """Every connection aborted (a reset, as when the server dies); new ones reset."""
        self._steps = []
        self._refusing = True
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self.cuts += 1

    @property
    def refusing(self) -> bool:
        return self._refusing

    async def restore(self) -> None:
        self._refusing = False

    def partition(self) -> None:
        self._healed.clear()

    def heal(self) -> None:
        self._healed.set()

    def cut_when(self, *steps: Step) -> None:
        """Cut once one connection has shown these, in order (one step per chunk at most)."""
        self._arm(steps, partition=False)

    def partition_when(self, *steps: Step) -> None:
        """Partition (holding the last bytes shown) once one connection has shown these."""
        self._arm(steps, partition=True)

    def _arm(self, steps: tuple[Step, ...], *, partition: bool) -> None:
        self._steps = list(steps)
        self._partition_at_last = partition
        self._progress.clear()
        self._tails.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            writer.transport.abort()
            return
        await self._healed.wait()
        if writer.transport.is_closing():
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        connection = id(writer)
        self._clients[connection] = writer
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, connection, to_server=True),
                self._pump(up_reader, writer, connection, to_server=False),
            )
        finally:
            for end in (writer, up_writer):
                self._writers.discard(end)
                end.transport.abort()
            self._clients.pop(connection, None)

    def _client_gone(self, connection: int) -> bool:
        client = self._clients.get(connection)
        return client is None or client.transport.is_closing()

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        connection: int,
        *,
        to_server: bool,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(CHUNK):
                if not self._healed.is_set():
                    await self._healed.wait()
                    if self._client_gone(connection):
                        break  # the client gave up meanwhile: what it sent is lost with it
                last = self._advance(connection, to_server, data)
                if last and self._partition_at_last:
                    self._steps = []
                    self.partition()
                    await self._healed.wait()
                    if self._client_gone(connection):
                        break
                    last = False
                if last and not to_server:
                    await self.cut()  # the server's answer is never relayed
                    return
                writer.write(data)
                await writer.drain()
                if last:
                    await self.cut()  # the server has the bytes; the client hears nothing more
                    return
        writer.transport.abort()

    def _advance(self, connection: int, to_server: bool, data: bytes) -> bool:
        """Advances this connection through the armed steps; True when it has shown them all."""
        done = self._progress.get(connection, 0)
        if done >= len(self._steps) or self._steps[done].to_server != to_server:
            return False
        key = (connection, to_server)
        window = self._tails.get(key, b"") + data
        pattern = self._steps[done].pattern
        self._tails[key] = window[-max(len(pattern) - 1, 1) :]
        if pattern not in window:
            return False
        self._progress[connection] = done + 1
        self._tails.pop(key, None)
        return done + 1 == len(self._steps)
