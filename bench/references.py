"""bench/references: what PostgreSQL's reference checks cost the writes that make most of them,
with the foreign keys of migration 0021 and with the triggers 0009 and 0011 had put in their
place, alternated in one database.

Each round, for each kind: 100,000 staff inserted as 20 statements of 5,000 (the staff batches'
statement), each followed by the same people's 5,000 history rows; then 10,000 completions and
10,000 Bronze awards naming some of them (a 10,000-record completion batch's two inserts). Only
those statements are timed, in PostgreSQL's own transaction (no HTTP, no Python between them),
so the difference between the kinds is what the checks cost. The schema is switched by
migrating below 0021 and back; the tables are emptied between runs.

Run: .venv/bin/python -m bench.references [--rounds 3]   (needs the local PostgreSQL server)
"""

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from alembic import command
from alembic.script import ScriptDirectory

from app.core.migrations import alembic_config, upgrade_to_head
from bench.common import fresh_database
from bench.staff_import import BATCH, STAFF, generate_staff

COMPLETIONS = 10_000
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
# The estimate of what the triggers saved, per batch of 5,000-10,000 rows.
TRIGGERS_SAVED_MS = "20-25 ms"

STAFF_INSERT = """
INSERT INTO staff_members (employee_number, given_name, family_name, work_email,
    work_email_key, organisation_ods_code, staff_group_code, job_title, board_member,
    start_date, version)
SELECT *, 1 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::text[], $7::text[], $8::text[], $9::boolean[], $10::date[])
ON CONFLICT (employee_number) DO NOTHING
RETURNING id, organisation_ods_code, staff_group_code, board_member, start_date
"""
HISTORY_INSERT = """
INSERT INTO staff_history (staff_id, valid_from, organisation_ods_code, staff_group_code,
    board_member)
SELECT * FROM unnest($1::bigint[], $2::date[], $3::text[], $4::text[], $5::boolean[])
"""
COMPLETIONS_INSERT = """
INSERT INTO completions (client_id, external_id, channel, course_id, completed_at,
    match_status, staff_id)
SELECT 'bench', 'ref-' || s, 'api', $2, $3, 'matched', s FROM unnest($1::bigint[]) s
"""
AWARDS_INSERT = """
INSERT INTO awards (staff_id, level, granted_at, attained_at, rules_version, evidence, status)
SELECT s, 'bronze', $2, $2, 1, '{}', 'active' FROM unnest($1::bigint[]) s
"""
EMPTY = "TRUNCATE staff_members, staff_history, completions, awards CASCADE"
KINDS = ("triggers (0009, 0011)", "foreign keys (0021)")


def _restoring_revision(url: str) -> tuple[str, str]:
    """The revision that restored the foreign keys and the one before it (found by file
    name: revision ids are renumbered when branches merge)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    (found,) = [r for r in script.walk_revisions() if r.path.endswith("_foreign_keys_restored.py")]
    return found.revision, str(found.down_revision)


def _schema(url: str, kind: str) -> None:
    if kind == KINDS[0]:
        command.downgrade(alembic_config(url), _restoring_revision(url)[1])
    else:
        upgrade_to_head(url)


async def _measure(url: str, staff: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds spent in each kind of insert, summed over its statements."""
    spent = dict.fromkeys(("staff", "history", "completions", "awards"), 0.0)
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(EMPTY)
        await connection.execute("CHECKPOINT")
        course = await connection.fetchval(
            "INSERT INTO courses (code, title, provider, pass_required, active, version) "
            "VALUES ('BENCH-REF', 'Bench', 'bench', false, true, 1) "
            "ON CONFLICT (code) DO UPDATE SET title = 'Bench' RETURNING id"
        )
        ids: list[int] = []
        for start in range(0, len(staff), BATCH):
            batch = staff[start : start + BATCH]
            columns = [
                [s[k] for s in batch]
                for k in ("employeeNumber", "givenName", "familyName", "workEmail")
            ]
            async with connection.transaction():
                began = time.perf_counter()
                rows = await connection.fetch(
                    STAFF_INSERT,
                    *columns,
                    [s["workEmail"].lower() for s in batch],
                    [s["organisation"] for s in batch],
                    [s["staffGroup"] for s in batch],
                    [s["jobTitle"] for s in batch],
                    [s["boardMember"] for s in batch],
                    [date.fromisoformat(s["startDate"]) for s in batch],
                )
                inserted = time.perf_counter()
                await connection.execute(
                    HISTORY_INSERT, *([r[i] for r in rows] for i in (0, 4, 1, 2, 3))
                )
                spent["staff"] += inserted - began
                spent["history"] += time.perf_counter() - inserted
            ids.extend(r[0] for r in rows)
        await connection.execute("ANALYZE")
        chosen = ids[:: len(ids) // COMPLETIONS][:COMPLETIONS]
        async with connection.transaction():
            began = time.perf_counter()
            await connection.execute(COMPLETIONS_INSERT, chosen, course, NOW)
            inserted = time.perf_counter()
            await connection.execute(AWARDS_INSERT, chosen, NOW)
            spent["completions"] += inserted - began
            spent["awards"] += time.perf_counter() - inserted
    finally:
        await connection.close()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="iqt_bench_references")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    staff = generate_staff(STAFF)
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    loads = [os.getloadavg()[0]]
    with fresh_database(args.database) as url:
        for round_ in range(args.rounds):
            # Alternated, and in the other order every other round.
            for kind in KINDS if round_ % 2 == 0 else KINDS[::-1]:
                _schema(url, kind)
                runs[kind].append(asyncio.run(_measure(url, staff)))
                loads.append(os.getloadavg()[0])
    print(
        f"bench/references: PostgreSQL, {args.rounds} rounds, each kind alternated; load "
        f"average (1 min) {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores"
    )
    lines = [
        ("staff", f"{STAFF:,} staff, {STAFF // BATCH} statements of {BATCH:,}", STAFF // BATCH),
        ("history", f"their history, {STAFF // BATCH} statements of {BATCH:,}", STAFF // BATCH),
        ("completions", f"{COMPLETIONS:,} completions, one statement", 1),
        ("awards", f"{COMPLETIONS:,} Bronze awards, one statement", 1),
    ]
    for key, label, statements in lines:
        triggers, keys = (statistics.median(r[key] for r in runs[kind]) * 1000 for kind in KINDS)
        cost = keys - triggers
        print(
            f"  {label:<42} triggers {triggers:6.0f} ms, foreign keys {keys:6.0f} ms: "
            f"FK cost {cost:+5.0f} ms ({cost / statements:+.1f} ms a statement; the triggers "
            f"were to save {TRIGGERS_SAVED_MS} a statement)"
        )
        for kind in KINDS:
            print(f"      {kind}: " + ", ".join(f"{r[key] * 1000:.0f}" for r in runs[kind]))
    print("  (medians of the runs, in ms; each run's figure below its line)")


if __name__ == "__main__":
    main()
