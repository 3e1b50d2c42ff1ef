"""The server `iqt serve` runs stops reading a request head over the limit, with a 431."""

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from app.core.http_protocol import BoundedHeadProtocol
from app.core.settings import get_settings


async def _hello(scope: Any, receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    """A uvicorn server with the protocol `iqt serve` uses, on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    config = uvicorn.Config(
        _hello, host="127.0.0.1", port=free, http=BoundedHeadProtocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(1000):  # polled with a generous bound: the server starts in this loop
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield free
    server.should_exit = True
    await serving


async def _exchange(port: int, head: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    writer.write_eof()
    answer = await reader.read()
    writer.close()
    return answer


async def test_a_head_over_the_limit_is_431_and_not_read_to_its_end(port: int) -> None:
    settings = get_settings()
    huge = b"p" * (settings.max_request_header_bytes + settings.max_url_bytes + 300_000)
    answer = await _exchange(
        port, b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + huge + b"\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"application/problem+json" in answer


async def test_a_head_within_the_limit_is_answered(port: int) -> None:
    padding = b"p" * 8000
    answer = await _exchange(
        port, b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + padding + b"\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b"hello" in answer


class _Transport(asyncio.Transport):
    """Records what the protocol writes; reads are driven by the test."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closing = False

    def write(self, data: Any) -> None:
        self.written += data

    def write_eof(self) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def test_the_read_that_ends_a_large_body_is_not_taken_for_the_next_head() -> None:
    """A read holding the last 300 kB of a body once counted as the next request's head, and a
    1,000-record staff batch over real HTTP was refused with 431."""
    config = uvicorn.Config(_hello, http=BoundedHeadProtocol, log_level="warning")
    protocol = BoundedHeadProtocol(config, ServerState(), {})
    transport = _Transport()
    protocol.connection_made(transport)
    body = b"x" * 300_000
    protocol.data_received(
        b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    protocol.data_received(body)  # one read: the whole body, as a loaded server reads it
    for _ in range(10):  # let the application answer
        await asyncio.sleep(0)
    assert b" 431 " not in transport.written, bytes(transport.written[:200])
    assert transport.written.startswith(b"HTTP/1.1 200 "), bytes(transport.written[:200])
