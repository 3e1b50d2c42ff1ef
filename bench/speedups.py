"""bench/speedups: does each speed-up kept on the write path still pay >= 5% of its path?

One 10,000-record ``POST /completionBatches`` (each record a first Bronze of a person who has
none, so matching, award evaluation, uptake and events all run) is served in-process (httpx's
ASGI transport, one event loop) against PostgreSQL with BENCH_STAFF staff: every mechanism on,
and with each turned off in turn, alternated ROUNDS times; the medians are printed beside the
target. The mechanisms:

- ``collector``: garbage collections paused around the batch (app/core/collector.py, in the
  batch routers); off = collections as usual.

Run: .venv/bin/python -m bench.speedups   (needs PostgreSQL)
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import time
from collections.abc import Iterator

import httpx

from bench.common import BIN, create_client, fresh_database, psql
from bench.completions import FIRST_NUMBER, load_staff

BATCH = 10_000
ROUNDS = 4
VARIANTS = ("all on", "collector")
# Each batch is of people with no award yet (so each grants 10,000 Bronze): enough staff for all.
BENCH_STAFF = (ROUNDS * len(VARIANTS) + 1) * BATCH
TARGET_SHARE = 0.05


@contextlib.contextmanager
def mechanism_off(name: str) -> Iterator[None]:
    from app.completions import router as completions_router

    patches = {
        "collector": [(completions_router, "collections_paused", contextlib.nullcontext)],
    }.get(name, [])
    saved = [(owner, attribute, getattr(owner, attribute)) for owner, attribute, _ in patches]
    for owner, attribute, value in patches:
        setattr(owner, attribute, value)
    try:
        yield
    finally:
        for owner, attribute, value in saved:
            setattr(owner, attribute, value)


def _body(first: int, tag: str) -> bytes:
    records = [
        {
            "employeeNumber": f"{FIRST_NUMBER + first + i}",
            "courseCode": "IQT-BRONZE",
            "completedAt": "2026-11-21T09:00:00Z",
            "passed": True,
            "externalId": f"{tag}-{i}",
        }
        for i in range(BATCH)
    ]
    return json.dumps({"records": records}).encode()


async def measure(
    database_url: str, client_id: str, secret: str
) -> dict[str, list[tuple[float, float]]]:
    """Each variant's (wall, CPU) seconds per batch: CPU time is this process's, client
    and service together, and moves less than wall time with other load on the machine."""
    os.environ.update(IQT_DATABASE_URL=database_url, IQT_LOG_LEVEL="WARNING",
                      IQT_RATE_LIMIT="100000000/minute")  # fmt: skip
    from app.main import create_app

    app = create_app()
    seconds: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        response = await client.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        response.raise_for_status()
        headers = {
            "Authorization": f"Bearer {response.json()['access_token']}",
            "Content-Type": "application/json",
        }
        warm = _body(BENCH_STAFF - BATCH, "warm")
        (await client.post("/completionBatches", content=warm, headers=headers)).raise_for_status()
        people = 0
        for round_ in range(ROUNDS):
            for variant in VARIANTS:
                body = _body(people, f"{round_}-{variant}")
                people += BATCH
                with mechanism_off(variant):
                    started, cpu = time.perf_counter(), time.process_time()
                    response = await client.post(
                        "/completionBatches", content=body, headers=headers
                    )
                    seconds[variant].append(
                        (time.perf_counter() - started, time.process_time() - cpu)
                    )
                response.raise_for_status()
                assert response.json()["recorded"] == BATCH, response.text
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="iqt_bench_speedups")
    args = parser.parse_args()
    with fresh_database(args.database) as url:
        asyncio.run(load_staff(url, BENCH_STAFF))
        env = {**os.environ, "IQT_DATABASE_URL": url}
        for command in (["uptake", "rebuild"], ["courses", "load-reference"]):
            subprocess.run([BIN / "iqt", *command], check=True, env=env, stdout=subprocess.DEVNULL)
        client_id, secret = create_client(url, "completions:read,completions:write")
        psql(args.database, "VACUUM ANALYZE")
        seconds = asyncio.run(measure(url, client_id, secret))
    print(f"bench/speedups: one {BATCH:,}-record completion batch, in-process, "
          f"{BENCH_STAFF:,} staff, PostgreSQL, {ROUNDS} rounds alternated; medians")  # fmt: skip
    wall_on = statistics.median(w for w, _ in seconds["all on"])
    cpu_on = statistics.median(c for _, c in seconds["all on"])
    runs = _runs(seconds["all on"])
    print(f"  all mechanisms on: {wall_on:.3f} s wall, {cpu_on:.3f} s CPU ({runs})")
    for variant in VARIANTS[1:]:
        wall = statistics.median(w for w, _ in seconds[variant])
        cpu = statistics.median(c for _, c in seconds[variant])
        wall_share, cpu_share = (wall - wall_on) / wall, (cpu - cpu_on) / cpu
        # What they save is the worker's computing: CPU time says it, wall time adds noise.
        verdict = "pays" if cpu_share >= TARGET_SHARE else "DOES NOT PAY"
        print(f"  {variant} off: {wall:.3f} s wall, {cpu:.3f} s CPU ({_runs(seconds[variant])}); "
              f"it saves {wall_share:.1%} of the wall time, {cpu_share:.1%} of the CPU time "
              f"(target >= {TARGET_SHARE:.0%} of the CPU time: {verdict})")  # fmt: skip


def _runs(runs: list[tuple[float, float]]) -> str:
    return "wall/CPU s: " + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in runs)


if __name__ == "__main__":
    main()
