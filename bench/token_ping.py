"""bench/token_ping: /_ping latency while 10 wrong-secret token requests run, on PostgreSQL.

One uvicorn worker (so every ping meets the token requests in the same process), the default
argon2 profile (RFC_9106_LOW_MEMORY). Ten clients post wrong secrets for a known client id to
/oauth2/token back to back for the whole run, while /_ping is asked every 20 ms; the pings'
median, p99 and maximum are printed beside the target, with the token requests answered.

Run: .venv/bin/python -m bench.token_ping   (needs the local PostgreSQL server)
"""

import argparse
import asyncio
import statistics
import time

import httpx

from bench.common import create_client, fresh_database, running_server, verdict

TARGET_MS = 100
CONCURRENT_TOKEN_REQUESTS = 10


async def wrong_secrets(base_url: str, client_id: str, until: float) -> int:
    answered = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while time.monotonic() < until:
            response = await http.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, "not the secret"),
            )
            assert response.status_code == 401, response.text
            answered += 1
    return answered


async def pings(base_url: str, until: float) -> list[float]:
    latencies = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        await http.get("/_ping")  # the connection is made before timing starts
        while time.monotonic() < until:
            started = time.perf_counter()
            response = await http.get("/_ping")
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            await asyncio.sleep(0.02)
    return latencies


async def measure(base_url: str, client_id: str, seconds: float) -> None:
    until = time.monotonic() + seconds
    token_runs = [
        wrong_secrets(base_url, client_id, until) for _ in range(CONCURRENT_TOKEN_REQUESTS)
    ]
    *answered, latencies = await asyncio.gather(*token_runs, pings(base_url, until))
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"wrong-secret token requests answered (401): {sum(answered)} in {seconds:.0f} s")
    print(f"/_ping: {len(latencies)} pings, median {statistics.median(latencies):.1f} ms")
    print(f"/_ping p99: {p99:.1f} ms (target < {TARGET_MS} ms) {verdict(p99, TARGET_MS)}")
    print(f"/_ping max: {latencies[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with fresh_database("iqt_bench_token_ping") as url:
        client_id, _ = create_client(url, "organisations:read")
        env = {"IQT_TOKEN_RATE_LIMIT": "100000000/minute"}
        with running_server(url, workers=1, **env) as server:
            asyncio.run(measure(server.base_url, client_id, args.seconds))


if __name__ == "__main__":
    main()
