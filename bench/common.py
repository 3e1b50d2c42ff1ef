"""Shared benchmark plumbing: a fresh PostgreSQL database, the service in its own processes,
a token, and the server's peak memory."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("IQT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


def psql(database: str, sql: str) -> None:
    subprocess.run(
        ["psql", f"{PG_SERVER}/{database}", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        check=True,
    )


@contextlib.contextmanager
def fresh_database(name: str) -> Iterator[str]:
    """A new empty PostgreSQL database, migrated to head; dropped afterwards."""
    psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{name}"')
    url = f"{PG_SERVER}/{name}"
    env = {**os.environ, "IQT_DATABASE_URL": url}
    subprocess.run([BIN / "iqt", "migrate"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(
        [BIN / "iqt", "organisations", "load-reference"],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield url
    finally:
        psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_client(database_url: str, scopes: str) -> tuple[str, str]:
    out = subprocess.run(
        [BIN / "iqt", "clients", "create", "--name", "bench", "--scopes", scopes],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "IQT_DATABASE_URL": database_url},
    ).stdout
    created = json.loads(out)
    return created["clientId"], created["clientSecret"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str

    def pids(self) -> list[int]:
        """The uvicorn master and its workers."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        kids = [int(p) for p in children.read_text().split()] if children.exists() else []
        return [self.process.pid, *kids]

    def cpu_seconds(self) -> float:
        """CPU time the server's processes have used so far (user and system): steadier than
        wall time on a machine other work shares."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(FileNotFoundError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> dict[int, float]:
        """Peak resident memory (VmHWM) of each server process, in MB."""
        peaks = {}
        for pid in self.pids():
            with contextlib.suppress(FileNotFoundError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1]) / 1024
        return peaks


@contextlib.contextmanager
def running_server(database_url: str, workers: int = 2, **env: str) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [BIN / "iqt", "serve", "--port", str(port), "--workers", str(workers)],
        env={
            **os.environ,
            "IQT_DATABASE_URL": database_url,
            "IQT_LOG_LEVEL": "WARNING",
            # One client loads the service as hard as it can: the rate limiter counts every
            # request (its cost is in the figures) but must not refuse them.
            "IQT_RATE_LIMIT": "100000000/minute",
            **env,
        },
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/_status", timeout=1).status_code == 200:
                break
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("the service did not start")
    time.sleep(1)  # let every worker finish starting
    try:
        yield Server(process, base_url)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def token(base_url: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{base_url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def verdict(value: float, target: float, *, lower_is_better: bool = True) -> str:
    ok = value <= target if lower_is_better else value >= target
    return "meets target" if ok else "MISSES target"


@contextlib.contextmanager
def fresh_sqlite_database() -> Iterator[str]:
    """A new SQLite file, migrated to head, with the reference organisations; removed
    afterwards."""
    with tempfile.TemporaryDirectory(prefix="iqt-bench-") as directory:
        url = f"sqlite:///{directory}/bench.db"
        env = {**os.environ, "IQT_DATABASE_URL": url}
        subprocess.run([BIN / "iqt", "migrate"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(
            [BIN / "iqt", "organisations", "load-reference"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        yield url
