"""The application served by a real uvicorn server, as `iqt serve` serves it, for tests that
need a socket (a browser, a proxy's forwarded addresses)."""

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from app import cli
from app.core.settings import Settings


@asynccontextmanager
async def served(app: FastAPI, settings: Settings) -> AsyncIterator[str]:
    """``app`` served by uvicorn with the options `iqt serve` passes, on a free port of
    127.0.0.1, in this event loop; yields its base URL."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        port = listening.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", **cli.server_options(settings))
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[listening]))
        for _ in range(600):  # the server starts in this loop: a generous bound
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await task
