"""bench/reevaluate: everyone re-evaluated after POST /awardRules, on PostgreSQL, 2 workers.

100,000 staff, 300,000 completions and 5,000 approved projects (lead, members, often a mentor
or a sponsor) are generated straight into PostgreSQL with COPY; the uptake summary is built and
everyone is evaluated under rules version 1 (the awards the service would hold by then; timed
for information, one process). Then the service runs with 2 uvicorn workers, each with its
background job runner; a new rules version (Gold for 1 mentored project, sponsors count for
Silver) is posted over HTTP and the evaluation endpoint polled until the job is done.

Run: .venv/bin/python -m bench.reevaluate   (needs the local PostgreSQL server)
"""

import argparse
import asyncio
import copy
import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from app.awards.jobs import run_pending_jobs
from app.awards.rules_document import DEFAULT_RULES_JSON
from app.core.database import create_engine, create_sessionmaker
from app.core.settings import Settings
from app.uptake.summary import rebuild_uptake
from bench.common import create_client, fresh_database, psql, running_server, token, verdict
from bench.staff_import import ORGANISATION_WEIGHTS, STAFF_GROUP_WEIGHTS

STAFF, COMPLETIONS, PROJECTS = 100_000, 300_000, 5_000
TARGET_SECONDS, TARGET_RSS_MB = 10, 500
COURSES = [
    ("IQT-BRONZE", "bronze", True),
    ("FIRE-SAFETY", None, True),
    ("IG-TRAINING", None, False),
]


async def generate(database_url: str, client_id: str, seed: int = 5) -> None:
    rng = random.Random(seed)
    orgs = rng.choices(list(ORGANISATION_WEIGHTS), list(ORGANISATION_WEIGHTS.values()), k=STAFF)
    groups = rng.choices(list(STAFF_GROUP_WEIGHTS), list(STAFF_GROUP_WEIGHTS.values()), k=STAFF)
    now = datetime.now(UTC)
    staff, history = [], []
    for i in range(STAFF):
        start = date(1995, 1, 1) + timedelta(days=rng.randrange(10_000))
        staff.append((i + 1, f"{30_000_000 + i}", "Siân", "Jones", None, None, orgs[i],
                      groups[i], None, rng.random() < 0.01, start, None, 1, now, now))  # fmt: skip
        history.append((i + 1, start, None, orgs[i], groups[i], staff[-1][9]))
    completions = []
    for n in range(COMPLETIONS):
        course = 1 if rng.random() < 0.6 else rng.choice((2, 3))
        at = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(3_000_000))
        passed = rng.random() < 0.9
        completions.append((client_id, f"bench-{n}", "batch", course, rng.randrange(1, STAFF + 1),
                            at, passed, "matched", now, now))  # fmt: skip
    projects, team = [], []
    for p in range(1, PROJECTS + 1):
        approved = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(2_500_000))
        outcome = rng.choice(("improved", "noChange", "worse", "inconclusive"))
        projects.append((p, "Bench project", rng.choice(list(ORGANISATION_WEIGHTS)), "[]", "[]",
                         "[]", outcome, "approved", approved, approved, 1, now, now))  # fmt: skip
        roles = ["lead"] + ["member"] * rng.randrange(0, 4)
        roles += ["mentor"] * (rng.random() < 0.5) + ["sponsor"] * (rng.random() < 0.3)
        for role, person in zip(roles, rng.sample(range(1, STAFF + 1), len(roles)), strict=True):
            team.append((p, person, role))
    connection = await asyncpg.connect(database_url)
    try:
        await connection.copy_records_to_table(
            "staff_members", records=staff,
            columns=["id", "employee_number", "given_name", "family_name", "work_email",
                     "work_email_key", "organisation_ods_code", "staff_group_code", "job_title",
                     "board_member", "start_date", "end_date", "version", "created_at",
                     "updated_at"],
        )  # fmt: skip
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('staff_members', 'id'), $1)", STAFF
        )
        await connection.copy_records_to_table(
            "staff_history", records=history,
            columns=["staff_id", "valid_from", "valid_to", "organisation_ods_code",
                     "staff_group_code", "board_member"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "courses",
            records=[(i + 1, code, code, "Learning@Wales", towards, required, None, True, 1)
                     for i, (code, towards, required) in enumerate(COURSES)],
            columns=["id", "code", "title", "provider", "counts_towards", "pass_required",
                     "minimum_score", "active", "version"],
        )  # fmt: skip
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('courses', 'id'), $1)", len(COURSES)
        )
        await connection.copy_records_to_table(
            "completions", records=completions,
            columns=["client_id", "external_id", "channel", "course_id", "staff_id",
                     "completed_at", "passed", "match_status", "created_at", "updated_at"],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "improvement_projects", records=projects,
            columns=["id", "title", "organisation_ods_code", "measures", "changes", "links",
                     "outcome", "status", "submitted_at", "approved_at", "version",
                     "created_at", "updated_at"],
        )  # fmt: skip
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('improvement_projects', 'id'), $1)", PROJECTS
        )
        await connection.copy_records_to_table(
            "project_team_members", records=team, columns=["project_id", "staff_id", "role"]
        )
        # Everyone is evaluated under version 1 first, as the service would have done.
        await connection.execute(
            "INSERT INTO award_evaluation_jobs "
            "(rules_version, status, total, done, granted, created_at) "
            "VALUES (1, 'pending', 0, 0, 0, now())"
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def evaluate_under_version_1(database_url: str) -> tuple[float, int, int]:
    """Builds the uptake summary, then runs the version 1 job in this process."""
    engine = create_engine(Settings(database_url=database_url, _env_file=None))  # type: ignore[call-arg]
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker() as session:
            await rebuild_uptake(session)
            await session.commit()
        started = time.perf_counter()
        steps = await run_pending_jobs(sessionmaker, "bench-setup")
        seconds = time.perf_counter() - started
        return seconds, sum(s.evaluated for s in steps), sum(s.granted for s in steps)
    finally:
        await engine.dispose()


def new_rules() -> dict[str, Any]:
    document = copy.deepcopy(DEFAULT_RULES_JSON)
    document["description"] = "Version 2: Gold for 1 mentored project; sponsors earn Silver."
    document["levels"]["gold"]["minimumMentoredProjects"] = 1
    document["levels"]["silver"]["roles"] = ["lead", "member", "sponsor"]
    return document


def reevaluate(base_url: str, bearer: str) -> tuple[float, dict[str, Any]]:
    """Posts the new rules and polls until everyone is re-evaluated."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {bearer}"}) as client:
        started = time.perf_counter()
        response = client.post("/awardRules", json=new_rules(), timeout=30)
        response.raise_for_status()
        version = response.json()["version"]
        while True:
            job = client.get(f"/awardRules/{version}/evaluation", timeout=30).json()
            if job["status"] == "done":
                return time.perf_counter() - started, job
            if time.perf_counter() - started > 600:
                raise RuntimeError(f"the re-evaluation did not finish: {job}")
            time.sleep(0.25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="iqt_bench_reevaluate")
    args = parser.parse_args()
    with fresh_database(args.database) as url:
        client_id, secret = create_client(url, "awards:read,awards:write")
        started = time.perf_counter()
        asyncio.run(generate(url.replace("postgresql://", "postgres://"), client_id))
        generated = time.perf_counter() - started
        setup, evaluated, granted = asyncio.run(evaluate_under_version_1(url))
        psql(args.database, "VACUUM ANALYZE")
        with running_server(url, workers=2) as server:
            bearer = token(server.base_url, client_id, secret)
            seconds, job = reevaluate(server.base_url, bearer)
            peaks = server.peak_rss_mb()
    print(
        f"bench/reevaluate: {STAFF:,} staff, {COMPLETIONS:,} completions, {PROJECTS:,} approved "
        f"projects, PostgreSQL, 2 workers (data generated in {generated:.1f} s)"
    )
    print(
        f"  setup: version 1 evaluation of {evaluated:,} people in one process {setup:.1f} s, "
        f"{granted:,} awards granted"
    )
    print(
        f"{'re-evaluation':<18} {seconds:6.2f} s  ({job['done']:,}/{job['total']:,} people, "
        f"{job['granted']:,} awards granted)   target <= {TARGET_SECONDS} s   "
        + verdict(seconds, TARGET_SECONDS)
    )
    worst = max(peaks.values())
    print(
        f"{'server peak RSS':<18} {worst:6.0f} MB per process (largest of {len(peaks)}: "
        + ", ".join(f"{v:.0f}" for v in peaks.values())
        + f")   target <= {TARGET_RSS_MB} MB   "
        + verdict(worst, TARGET_RSS_MB)
    )


if __name__ == "__main__":
    main()
