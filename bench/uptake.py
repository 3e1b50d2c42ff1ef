"""bench/uptake: GET /uptake?groupBy=organisation under load, at 100,000 and 1,000,000 staff.

Staff, their dated history (10% movers) and awards (~30% Bronze, 5% Silver, 1% Gold, some
revoked, some leavers) are generated straight into PostgreSQL with COPY; the uptake summary is
then built by ``rebuild_uptake``, the same code the projection runs after every change. Leavers
past their retention period are generated as already pseudonymised, as a service in steady state
has them: otherwise each API process's retention sweep works through thousands of them (tens of
thousands at 1,000,000) during the measurement. The load is vacuumed, analysed and checkpointed
before the service starts, so that no checkpoint of the load writes during the measurement.
The summary read is EXPLAINed (bucket rows summed, execution time): what a refresh of the
answer costs PostgreSQL at each scale. The service runs with 2 uvicorn workers and wrk loads it
with 64 connections for 10 s. Completions are not generated: uptake reads never touch them
(awards carry what they decided).

Run: .venv/bin/python -m bench.uptake [--scales 100000,1000000]   (needs PostgreSQL and wrk)
"""

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.dialects import postgresql

from app.core.clock import today
from app.core.database import create_engine, create_sessionmaker
from app.core.settings import Settings
from app.personal_data.jobs import retention_cutoff
from app.uptake.repository import CellFilter, totals_query
from app.uptake.summary import rebuild_uptake
from bench.common import create_client, fresh_database, psql, running_server, token, verdict
from bench.staff_import import ORGANISATION_WEIGHTS, STAFF_GROUP_WEIGHTS

TARGET_RPS = 1500
TARGET_P99_MS = 50


async def generate(database_url: str, count: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    orgs = rng.choices(list(ORGANISATION_WEIGHTS), list(ORGANISATION_WEIGHTS.values()), k=count)
    groups = rng.choices(list(STAFF_GROUP_WEIGHTS), list(STAFF_GROUP_WEIGHTS.values()), k=count)
    now = datetime.now(UTC)
    cutoff = retention_cutoff(today(), Settings(_env_file=None).personal_data_retention_years)  # type: ignore[call-arg]
    staff, history, awards, pseudonymised = [], [], [], []
    for i in range(count):
        staff_id = i + 1
        start = date(1990, 1, 1) + timedelta(days=rng.randrange(12_500))
        end = start + timedelta(days=rng.randrange(200, 4000)) if rng.random() < 0.08 else None
        board = rng.random() < 0.01
        staff.append((staff_id, f"{20_000_000 + i}", "Siân", "Jones", None, None, orgs[i],
                      groups[i], None, board, start, end, 1, now, now))  # fmt: skip
        if end is not None and end <= cutoff:
            pseudonymised.append((staff_id, now, "retention"))
        if rng.random() < 0.1:  # a mover
            moved = start + timedelta(days=rng.randrange(1, 3000))
            other = rng.choice(list(ORGANISATION_WEIGHTS))
            history.append((staff_id, start, moved, other, groups[i], board))
            history.append((staff_id, moved, None, orgs[i], groups[i], board))
        else:
            history.append((staff_id, start, None, orgs[i], groups[i], board))
        roll = rng.random()
        levels = ["bronze"] * (roll < 0.3) + ["silver"] * (roll < 0.05) + ["gold"] * (roll < 0.01)
        granted = datetime(2016, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(3900))
        for level in levels:
            revoked = granted + timedelta(days=200) if rng.random() < 0.02 else None
            awards.append((staff_id, level, granted, revoked))
            granted += timedelta(days=rng.randrange(30, 600))
    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table(
            "staff_members",
            records=staff,
            columns=["id", "employee_number", "given_name", "family_name", "work_email",
                     "work_email_key", "organisation_ods_code", "staff_group_code", "job_title",
                     "board_member", "start_date", "end_date", "version", "created_at",
                     "updated_at"],
        )  # fmt: skip
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('staff_members', 'id'), $1)", count
        )
        await connection.copy_records_to_table(
            "staff_history",
            records=history,
            columns=["staff_id", "valid_from", "valid_to", "organisation_ods_code",
                     "staff_group_code", "board_member"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "staff_pseudonymisations",
            records=pseudonymised,
            columns=["staff_id", "pseudonymised_at", "cause"],
        )
        rows = [
            (sid, lvl, at, at, None, "{}", "revoked" if rev else "active", rev,
             "bench" if rev else None, "administrator" if rev else None, now, now)
            for sid, lvl, at, rev in awards
        ]  # fmt: skip
        await connection.copy_records_to_table(
            "awards",
            records=rows,
            columns=["staff_id", "level", "attained_at", "granted_at", "rules_version",
                     "evidence", "status",
                     "revoked_at", "revoked_reason", "revocation_cause", "created_at",
                     "updated_at"],
        )  # fmt: skip
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def build_summary(database_url: str) -> int:
    engine = create_engine(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    try:
        async with create_sessionmaker(engine)() as session:
            people = await rebuild_uptake(session)
            await session.commit()
            return people
    finally:
        await engine.dispose()


async def explain_summary_read(database_url: str) -> str:
    """EXPLAIN ANALYZE of the summary read behind ``GET /uptake`` (today, every cell): the
    bucket rows it sums and its execution time."""
    sql = totals_query(today(), CellFilter()).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    connection = await asyncpg.connect(database_url)
    try:
        plans = [
            json.loads(
                await connection.fetchval(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}")
            )[0]
            for _ in range(9)
        ]
    finally:
        await connection.close()

    def scanned(node: dict[str, Any]) -> int:
        own = node["Actual Rows"] if node.get("Relation Name") == "uptake_buckets" else 0
        return own + sum(scanned(child) for child in node.get("Plans", []))

    took = statistics.median(plan["Execution Time"] for plan in plans)
    return f"{scanned(plans[0]['Plan']):,} bucket rows summed in {took:.2f} ms (median of 9)"


def load(base_url: str, bearer: str) -> tuple[float, float]:
    """wrk, 64 connections, 10 s: requests/s and p99 in ms."""
    out = subprocess.run(
        ["wrk", "-t2", "-c64", "-d10s", "--latency", "-H", f"Authorization: Bearer {bearer}",
         f"{base_url}/uptake?groupBy=organisation"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return rps, p99


def run(count: int, database: str = "iqt_bench_uptake") -> None:
    with fresh_database(f"{database}_{count}") as url:
        started = time.perf_counter()
        asyncio.run(generate(url, count))
        generated = time.perf_counter() - started
        started = time.perf_counter()
        people = asyncio.run(build_summary(url))
        built = time.perf_counter() - started
        # The rebuild rewrites each bucket row once per chunk: vacuum as autovacuum would.
        psql(url.rsplit("/", 1)[1], "VACUUM ANALYZE")
        psql(url.rsplit("/", 1)[1], "CHECKPOINT")
        print(f"{count:,} staff: generated in {generated:.1f} s; summary for {people:,} people "
              f"built by rebuild_uptake in {built:.1f} s")  # fmt: skip
        print(f"  summary read: {asyncio.run(explain_summary_read(url))}")
        client_id, secret = create_client(url, "uptake:read")
        with running_server(url, workers=2) as server:
            bearer = token(server.base_url, client_id, secret)
            load(server.base_url, bearer)  # warm-up
            rps, p99 = load(server.base_url, bearer)
        print(f"  GET /uptake?groupBy=organisation: {rps:,.0f} req/s (target >= {TARGET_RPS:,}: "
              f"{verdict(rps, TARGET_RPS, lower_is_better=False)}); p99 {p99:.1f} ms "
              f"(target <= {TARGET_P99_MS}: {verdict(p99, TARGET_P99_MS)})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="100000,1000000")
    parser.add_argument("--database", default="iqt_bench_uptake", help="Name prefix.")
    args = parser.parse_args()
    for count in (int(s) for s in args.scales.split(",")):
        run(count, args.database)


if __name__ == "__main__":
    main()
