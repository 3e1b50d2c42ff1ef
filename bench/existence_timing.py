"""Can a client restricted to one organisation tell, by timing alone, that a person exists in
another? (Issue 20, point 2.)

A client restricted to 7A4 sends each operation that resolves a person reference twice over:
naming a person of 7A6 ("elsewhere") and naming nobody at all ("nobody"). The two kinds are
interleaved, so drifts of the machine fall on both alike. Beside their difference the
benchmark prints what noise alone gives: the difference of medians between the two kinds'
requests shuffled together (a permutation test, 2,000 shuffles). The target: the observed
difference lies inside the 95% band of the shuffled ones, i.e. timing says nothing that noise
does not.

    .venv/bin/python -m bench.existence_timing --requests 400
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from bench.common import BIN, create_client, fresh_database, running_server, token

STAFF_PER_ORGANISATION = 2_000
SHUFFLES = 2_000


def staff_record(number: str, organisation: str) -> dict[str, Any]:
    return {
        "employeeNumber": number,
        "givenName": "Siân",
        "familyName": f"Llŷr {number}",
        "workEmail": f"person{number}@wales.nhs.uk",
        "organisation": organisation,
        "staffGroup": "Nursing and Midwifery Registered",
        "jobTitle": "Staff Nurse",
        "boardMember": False,
        "startDate": "2019-04-01",
    }


def load_staff(http: httpx.Client, bearer: str) -> None:
    for organisation, first in (("7A4", 400_000), ("7A6", 600_000)):
        records = [
            staff_record(str(first + i), organisation) for i in range(STAFF_PER_ORGANISATION)
        ]
        response = http.post(
            "/staffBatches",
            json={"mode": "upsert", "organisation": organisation, "records": records},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        response.raise_for_status()


def completion_by_email(email: str) -> tuple[str, str, dict[str, Any]]:
    body = {
        "courseCode": "IQT-BRONZE",
        "completedAt": "2026-01-15T10:30:00Z",
        "passed": True,
        "externalId": uuid.uuid4().hex,
        "workEmail": email,
    }
    return "POST", "/completions", body


def project_with_member(number: str) -> tuple[str, str, dict[str, Any]]:
    body = {
        "title": "Fewer falls on ward B2",
        "organisation": "7A4",
        "team": [
            {"employeeNumber": "400001", "role": "lead"},
            {"employeeNumber": number, "role": "member"},
        ],
    }
    return "POST", "/improvementProjects", body


def completion_by_number(number: str) -> tuple[str, str, dict[str, Any]]:
    method, path, body = completion_by_email("")
    del body["workEmail"]
    return method, path, {**body, "employeeNumber": number}


# (name, request naming 7A6's person, request naming nobody)
OPERATIONS: list[
    tuple[
        str,
        Callable[[int], tuple[str, str, dict[str, Any]]],
        Callable[[int], tuple[str, str, dict[str, Any]]],
    ]
] = [
    (
        "POST /completions, workEmail",
        lambda i: completion_by_email(f"person{600_000 + i % STAFF_PER_ORGANISATION}@wales.nhs.uk"),
        lambda i: completion_by_email(f"person{900_000 + i}@wales.nhs.uk"),
    ),
    (
        "POST /completions, employeeNumber",
        lambda i: completion_by_number(str(600_000 + i % STAFF_PER_ORGANISATION)),
        lambda i: completion_by_number(str(900_000 + i)),
    ),
    (
        "POST /improvementProjects, team member",
        lambda i: project_with_member(str(600_000 + i % STAFF_PER_ORGANISATION)),
        lambda i: project_with_member(str(900_000 + i)),
    ),
]


def timed(
    http: httpx.Client, bearer: str, request: tuple[str, str, dict[str, Any]]
) -> tuple[float, int]:
    method, path, body = request
    start = time.perf_counter()
    response = http.request(method, path, json=body, headers={"Authorization": f"Bearer {bearer}"})
    return (time.perf_counter() - start) * 1000, response.status_code


def permutation_band(a: list[float], b: list[float], rng: random.Random) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of median(a') - median(b') over shuffled labels."""
    pooled = a + b
    differences = []
    for _ in range(SHUFFLES):
        rng.shuffle(pooled)
        differences.append(
            statistics.median(pooled[: len(a)]) - statistics.median(pooled[len(a) :])
        )
    differences.sort()
    return differences[int(0.025 * SHUFFLES)], differences[int(0.975 * SHUFFLES) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="of each kind, per operation")
    parser.add_argument("--database", default="iqt_bench_existence")
    args = parser.parse_args()
    rng = random.Random(20)
    with fresh_database(args.database) as url:
        env = {**os.environ, "IQT_DATABASE_URL": url}
        subprocess.run(
            [BIN / "iqt", "courses", "load-reference"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        admin = create_client(url, "staff:write,staff:read,organisations:read")
        attacker = subprocess.run(
            [
                BIN / "iqt",
                "clients",
                "create",
                "--name",
                "attacker",
                "--scopes",
                "completions:write,completions:read,projects:write,projects:read",
                "--organisations",
                "7A4",
            ],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        created = json.loads(attacker)
        with (
            running_server(url, workers=1) as server,
            httpx.Client(base_url=server.base_url, timeout=30) as http,
        ):
            load_staff(http, token(server.base_url, *admin))
            bearer = token(server.base_url, created["clientId"], created["clientSecret"])
            print(
                f"{STAFF_PER_ORGANISATION:,} staff in each of 7A4 and 7A6; "
                f"{args.requests} requests of each kind per operation, interleaved; one worker"
            )
            print(
                f"{'operation':40} {'statuses':>16} {'elsewhere':>10} {'nobody':>8} "
                f"{'diff':>7} {'noise 95% band':>18}  verdict"
            )
            for name, elsewhere, nobody in OPERATIONS:
                for i in range(20):  # warm up both paths
                    timed(http, bearer, elsewhere(i))
                    timed(http, bearer, nobody(10_000 + i))
                a: list[float] = []
                b: list[float] = []
                statuses: set[tuple[str, int]] = set()
                for i in range(args.requests):
                    pair = [("elsewhere", elsewhere(100 + i)), ("nobody", nobody(20_000 + i))]
                    rng.shuffle(pair)
                    for kind, request in pair:
                        ms, status = timed(http, bearer, request)
                        (a if kind == "elsewhere" else b).append(ms)
                        statuses.add((kind, status))
                difference = statistics.median(a) - statistics.median(b)
                low, high = permutation_band(a, b, rng)
                same = {s for k, s in statuses if k == "elsewhere"} == {
                    s for k, s in statuses if k == "nobody"
                }
                verdict = "within noise" if low <= difference <= high else "OUTSIDE noise"
                codes = "/".join(str(s) for s in sorted({s for _, s in statuses}))
                print(
                    f"{name:40} {codes + (' same' if same else ' DIFFER'):>16} "
                    f"{statistics.median(a):8.2f}ms {statistics.median(b):6.2f}ms "
                    f"{difference:+6.2f} "
                    f"[{low:+6.2f}, {high:+6.2f}]ms  {verdict}"
                )


if __name__ == "__main__":
    main()
