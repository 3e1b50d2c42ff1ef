"""The server `iqt serve` runs stops reading a request head over the limit, with a 431."""

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

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
