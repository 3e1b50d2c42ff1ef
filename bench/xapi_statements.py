"""bench/xapi_statements: the xAPI statement store at scale, on PostgreSQL and on SQLite.

COUNT statements (default 1,000,000: 20,000 learners, 2,000 activities, 20 verbs, 2% naming an
earlier statement by StatementRef) are loaded through the repository's bulk inserts
(``xapi_repository.insert_statements``, ``insert_links`` and ``copy_reference_keys``, 1,000 a
transaction, no HTTP and no validation). The service then runs with 2 uvicorn
workers and is measured over HTTP on 127.0.0.1, with a bearer token:

(a) ``POST /xapi/statements``: BATCHES arrays of 100 new statements over 4 connections;
    statements stored per second.
(b) paged statement queries over 4 connections, limit 50: no filter, ``agent``, ``verb``,
    ``activity`` with ``related_activities``, ``since``, ``registration``, each with the page its
    ``more`` link names; the p99 of every request.

On PostgreSQL each query shape (the query ``xapi_repository.statements_query`` builds, its
StatementRef OR clause included) is EXPLAINed: a sequential scan of a statement table is
reported.

Run: .venv/bin/python -m bench.xapi_statements [--count 1000000] [--databases postgresql,sqlite]
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from app.completions import xapi_repository
from app.completions.xapi_repository import (
    Reader,
    StatementFilter,
    StatementLink,
    StatementRow,
    statements_query,
)
from app.completions.xapi_statements import agent_key
from app.core.database import create_engine, create_sessionmaker
from app.core.settings import Settings
from bench.common import BIN, create_client, fresh_database, running_server, token, verdict

TARGET_STATEMENTS_PER_S = 2000
TARGET_P99_MS = 50
LOAD_BATCH = 1000
POST_BATCH = 100
CONNECTIONS = 4
PAGE = 50
LEARNERS, ACTIVITIES = 20_000, 2_000
VERBS = [
    f"http://adlnet.gov/expapi/verbs/{name}"
    for name in [
        "experienced",
        "attended",
        "attempted",
        "completed",
        "passed",
        "failed",
        "answered",
        "asked",
        "commented",
        "exited",
        "imported",
        "interacted",
        "launched",
        "mastered",
        "preferred",
        "progressed",
        "registered",
        "responded",
        "resumed",
        "scored",
    ]
]
SHAPES = ("none", "agent", "verb", "activity", "since", "registration")


def agent(n: int) -> dict[str, str]:
    return {"objectType": "Agent", "mbox": f"mailto:learner{n}@example.org"}


def activity(n: int) -> str:
    return f"https://learning.example.org/xapi/activities/{n}"


class Statements:
    """Statements as an e-learning platform sends them, the same for the same seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.sent: list[str] = []
        self.registrations = [str(uuid.UUID(int=self.rng.getrandbits(128))) for _ in range(5000)]

    def one(self) -> dict[str, Any]:
        rng = self.rng
        statement_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        target: dict[str, Any] = {"id": activity(rng.randrange(ACTIVITIES))}
        if self.sent and rng.random() < 0.02:
            target = {"objectType": "StatementRef", "id": rng.choice(self.sent)}
        statement: dict[str, Any] = {
            "id": statement_id,
            "actor": agent(rng.randrange(LEARNERS)),
            "verb": {"id": rng.choice(VERBS), "display": {"en-GB": "did"}},
            "object": target,
            "timestamp": "2026-11-20T14:03:00Z",
            "context": {
                "registration": rng.choice(self.registrations),
                "contextActivities": {"parent": [{"id": activity(rng.randrange(ACTIVITIES))}]},
            },
            "result": {"score": {"scaled": round(rng.random(), 2)}, "completion": True},
        }
        if len(self.sent) < 100_000:
            self.sent.append(statement_id)
        return statement

    def batch(self, size: int) -> list[dict[str, Any]]:
        return [self.one() for _ in range(size)]


def rows(statements: list[dict[str, Any]], now: datetime) -> tuple[list[StatementRow], Any]:
    """The rows the service's write path stores for these statements (``xapi._store``):
    built here without validating each one, which would make the load take hours."""
    stored = now.isoformat().replace("+00:00", "Z")
    authority = {
        "objectType": "Agent",
        "account": {"homePage": "http://127.0.0.1", "name": "bench"},
    }
    statement_rows: list[StatementRow] = []
    links = []
    for raw in statements:
        target = raw["object"]
        ref = target["id"] if target.get("objectType") == "StatementRef" else None
        statement_rows.append(StatementRow(
            statement_id=raw["id"], client_id="bench", stored_at=now,
            verb_id=raw["verb"]["id"], registration=raw["context"]["registration"],
            voided=False, voids=None, statement_ref=ref,
            content_hash=hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest(),
            statement={**raw, "stored": stored, "authority": authority, "version": "1.0.0"},
        ))  # fmt: skip
        named = {("agent", agent_key(raw["actor"])): True}
        if ref is None:
            named[("activity", target["id"])] = True
        parent = raw["context"]["contextActivities"]["parent"][0]["id"]
        named.setdefault(("activity", parent), False)
        links.append((raw["id"], named))
    return statement_rows, links


async def load(database_url: str, count: int, statements: Statements) -> datetime:
    """Stores ``count`` statements through the repository's bulk path, LOAD_BATCH a
    transaction; the time half of them had been stored by (for ``since``)."""
    engine = create_engine(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    sessionmaker = create_sessionmaker(engine)
    halfway = datetime.now(UTC)
    try:
        for start in range(0, count, LOAD_BATCH):
            now = datetime.now(UTC)
            if start <= count // 2 < start + LOAD_BATCH:
                halfway = now
            statement_rows, named = rows(statements.batch(min(LOAD_BATCH, count - start)), now)
            async with sessionmaker() as session:
                inserted = await xapi_repository.insert_statements(session, statement_rows)
                await xapi_repository.insert_links(
                    session,
                    [
                        StatementLink(inserted[sid], kind, key, direct)
                        for sid, links in named
                        for (kind, key), direct in links.items()
                    ],
                )
                naming = {row.statement_id for row in statement_rows if row.statement_ref}
                await xapi_repository.copy_reference_keys(session, inserted, naming & set(inserted))
                await session.commit()
    finally:
        await engine.dispose()
    return halfway


async def already_loaded(database_url: str) -> tuple[int, datetime, list[str]]:
    """An existing store: its count, the time half of it had been stored by, registrations."""
    engine = create_engine(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    try:
        async with engine.connect() as connection:
            count = (
                await connection.execute(text("SELECT count(*) FROM xapi_statements"))
            ).scalar_one()
            halfway = (await connection.execute(
                text("SELECT stored_at FROM xapi_statements ORDER BY id LIMIT 1 OFFSET :n"),
                {"n": count // 2},
            )).scalar_one()  # fmt: skip
            registrations = (await connection.execute(text(
                "SELECT DISTINCT registration FROM xapi_statements"
                " WHERE registration IS NOT NULL LIMIT 5000"
            ))).scalars().all()  # fmt: skip
    finally:
        await engine.dispose()
    if isinstance(halfway, str):  # SQLite
        halfway = datetime.fromisoformat(halfway)
    return count, halfway.replace(tzinfo=halfway.tzinfo or UTC), list(registrations)


def query_params(
    shape: str, rng: random.Random, since: datetime, registrations: list[str]
) -> dict[str, str]:
    params = {"limit": str(PAGE)}
    if shape == "agent":
        params["agent"] = json.dumps(agent(rng.randrange(LEARNERS)))
    elif shape == "verb":
        params["verb"] = rng.choice(VERBS)
    elif shape == "activity":
        params["activity"] = activity(rng.randrange(ACTIVITIES))
        params["related_activities"] = "true"
    elif shape == "since":
        params["since"] = since.isoformat()
    elif shape == "registration":
        params["registration"] = rng.choice(registrations)
    return params


async def explain(database_url: str, since: datetime, registrations: list[str]) -> None:
    """EXPLAIN ANALYZE of each query shape as the repository builds it (PostgreSQL)."""
    engine = create_engine(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    rng = random.Random(3)
    try:
        async with engine.connect() as connection:
            for shape in SHAPES:
                params = query_params(shape, rng, since, registrations)
                found = StatementFilter(
                    agent=f"mbox:{json.loads(params['agent'])['mbox']}"
                    if "agent" in params
                    else None,
                    verb=params.get("verb"),
                    activity=params.get("activity"),
                    registration=params.get("registration"),
                    related_activities="related_activities" in params,
                    since=since if shape == "since" else None,
                )
                query = statements_query(Reader("bench", None), found, PAGE)
                sql = str(
                    query.compile(
                        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
                    )
                )
                plan = [row[0] for row in await connection.execute(text("EXPLAIN ANALYZE " + sql))]
                seq = [line.strip() for line in plan if "Seq Scan on xapi_statement" in line]
                took = next((line for line in plan if line.startswith("Execution Time")), "")
                indexes = sorted(
                    {line.split(" using ")[1].split(" ")[0] for line in plan if " using " in line}
                )
                print(f"  EXPLAIN {shape:<12} {took}; indexes {', '.join(indexes) or 'none'}"
                      + (f"; SEQUENTIAL SCAN: {seq[0]}" if seq else ""))  # fmt: skip
    finally:
        await engine.dispose()


def latency_figures(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def post_load(base_url: str, bearer: str, bodies: list[bytes]) -> float:
    """Statements stored per second: ``bodies`` (arrays of POST_BATCH) over CONNECTIONS."""
    headers = {
        "Authorization": f"Bearer {bearer}",
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }
    queue = list(reversed(bodies))
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            while queue:
                response = await client.post(
                    "/xapi/statements", content=queue.pop(), headers=headers
                )
                if response.status_code != 200:
                    raise RuntimeError(
                        f"POST answered {response.status_code}: {response.text[:300]}"
                    )

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        return len(bodies) * POST_BATCH / (time.perf_counter() - started)


async def query_load(
    base_url: str, bearer: str, rounds: int, since: datetime, registrations: list[str]
) -> dict[str, list[float]]:
    """Each round: a query of a random shape and its next page; latencies by shape."""
    headers = {"Authorization": f"Bearer {bearer}", "X-Experience-API-Version": "1.0.3"}
    rng = random.Random(5)
    plan = [rng.choice(SHAPES) for _ in range(rounds)]
    times: dict[str, list[float]] = {shape: [] for shape in SHAPES}
    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:

        async def timed(url: str, params: dict[str, str] | None, shape: str) -> dict[str, Any]:
            started = time.perf_counter()
            response = await client.get(url, params=params, headers=headers)
            times[shape].append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"GET answered {response.status_code}: {response.text[:300]}")
            return dict(response.json())

        async def worker() -> None:
            while plan:
                shape = plan.pop()
                page = await timed(
                    "/xapi/statements", query_params(shape, rng, since, registrations), shape
                )
                if page["more"]:
                    await timed(page["more"], None, shape)

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return times


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="iqt-bench-xapi-") as directory:
        url = f"sqlite:///{Path(directory) / 'iqt.db'}"
        env = {**os.environ, "IQT_DATABASE_URL": url}
        subprocess.run([BIN / "iqt", "migrate"], check=True, env=env, stdout=subprocess.DEVNULL)
        yield url


def run(kind: str, count: int, batches: int, rounds: int, existing: str | None) -> None:
    if existing is not None:
        database: contextlib.AbstractContextManager[str] = contextlib.nullcontext(existing)
    elif kind == "postgresql":
        database = fresh_database(f"iqt_bench_xapi_{count}")
    else:
        database = sqlite_database()
    with database as url:
        if existing is not None:
            count, since, registrations = asyncio.run(already_loaded(url))
            print(f"{kind}: {count:,} statements already stored in {url}")
        else:
            statements = Statements(seed=7)
            started = time.perf_counter()
            since = asyncio.run(load(url, count, statements))
            if kind == "postgresql":  # as autovacuum would (it may be off here)
                subprocess.run(["psql", url, "-q", "-c", "VACUUM ANALYZE"], check=True)
            registrations = statements.registrations
            loaded = time.perf_counter() - started
            print(f"{kind}: {count:,} statements loaded through the repository in {loaded:.0f} s "
                  f"({count / loaded:,.0f}/s)")  # fmt: skip
        if kind == "postgresql":
            asyncio.run(explain(url, since, registrations))
        client_id, secret = create_client(url, "completions:read,completions:write")
        fresh = Statements(seed=time.time_ns())  # ids not stored yet
        bodies = [json.dumps(fresh.batch(POST_BATCH)).encode() for _ in range(batches)]
        with running_server(url, workers=2) as server:
            bearer = token(server.base_url, client_id, secret)
            asyncio.run(query_load(server.base_url, bearer, 20, since, registrations))  # warm-up
            rate = asyncio.run(post_load(server.base_url, bearer, bodies))
            times = asyncio.run(query_load(server.base_url, bearer, rounds, since, registrations))
        print(f"  POST /xapi/statements, {batches} batches of {POST_BATCH}: {rate:,.0f} "
              f"statements/s (target >= {TARGET_STATEMENTS_PER_S:,}: "
              f"{verdict(rate, TARGET_STATEMENTS_PER_S, lower_is_better=False)})")  # fmt: skip
        every = [t for shape in SHAPES for t in times[shape]]
        median, p99 = latency_figures(every)
        print(f"  GET /xapi/statements, {len(every)} pages: median {median:.1f} ms, "
              f"p99 {p99:.1f} ms (target <= {TARGET_P99_MS}: "
              f"{verdict(p99, TARGET_P99_MS)})")  # fmt: skip
        for shape in SHAPES:
            if times[shape]:
                median, p99 = latency_figures(times[shape])
                print(f"    {shape:<12} {len(times[shape]):4d} pages: median {median:.1f} ms, "
                      f"p99 {p99:.1f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1_000_000, help="statements loaded first")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--batches", type=int, default=200, help="POSTs of 100 statements measured")
    parser.add_argument("--rounds", type=int, default=600, help="queries (each with its next page)")
    parser.add_argument(
        "--database-url",
        help="measure a store already loaded (e.g. by an earlier run) instead of loading one",
    )
    arguments = parser.parse_args()
    if arguments.database_url:
        kind = "sqlite" if arguments.database_url.startswith("sqlite") else "postgresql"
        run(kind, 0, arguments.batches, arguments.rounds, arguments.database_url)
        return
    for kind in arguments.databases.split(","):
        run(kind, arguments.count, arguments.batches, arguments.rounds, None)


if __name__ == "__main__":
    main()
