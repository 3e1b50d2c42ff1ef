"""Schemathesis over every operation, with every check, as two kinds of client: one with every
scope and no organisation restriction, and one restricted to organisation 7A4.

Positive and negative (invalid) data, through the examples, coverage and fuzzing phases. The
number of cases sent per client is printed at the end of the run (tests/contract/conftest.py).
"""

from fnmatch import fnmatchcase as fnmatch
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import (
    CHECKS,
    is_check_class,
    load_all_checks,
    negative_data_rejection,
    positive_data_acceptance,
)

from app.auth.scopes import ALL_SCOPES
from app.auth.tokens import issue_token
from app.core.batch_bodies import CSV_MEDIA_TYPES
from app.core.settings import Settings
from tests.conftest import PATIENCE, ClientFactory
from tests.contract.conftest import CASES, FuzzClient, load_schema, path_examples
from tests.depth import DEEP

pytestmark = pytest.mark.slow  # Node tools / generated cases: not the inner loop

load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not is_check_class(check)]

# Cases per operation and phase: a fixed-seed slice by default, more at depth (tests/depth.py).
MAX_EXAMPLES = 25 if DEEP else 7

schema = load_schema()
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
)
if not DEEP:  # the same cases every run: schemathesis otherwise draws a seed of its own
    schema.config.seed = 20261206
EXAMPLES = path_examples(schema)
checks = schema.config.checks
# If-Match with a well-formed ETag that is not the current one: a matter of state, like the 404
# and 409 the check already allows.
# A URL or headers over the configured limits (414, 431): configuration, not the schema.
checks.positive_data_acceptance.expected_statuses = [
    *checks.positive_data_acceptance.expected_statuses,
    "412",
    "414",
    "431",
]
# A URL or headers over the configured limits are refused before any header is looked at.
checks.missing_required_header.expected_statuses = [
    *checks.missing_required_header.expected_statuses,
    "414",
    "431",
]
# A batch over its record limit (maxItems) is refused with the documented 413.
checks.negative_data_rejection.expected_statuses = [
    *checks.negative_data_rejection.expected_statuses,
    "413",
    "414",
    "431",
]

# Refusals that depend on state, secrets, configuration or several fields at once, which no
# schema can express: a schema-valid case refused with one of these (problem type, invalid
# parameter, as a glob) is not a valid request wrongly rejected, so positive_data_acceptance does
# not apply to it. Every other check still runs on the case.
BEYOND_THE_SCHEMA = {
    # An opaque token the service signs: a generated one is well formed but not authentic.
    ("bad-request", "pageToken"),
    # A cursor only the event feed issues.
    ("bad-request", "after"),
    # xAPI statement reads: the more link's cursor is issued by the service; an agent is JSON
    # in a query parameter; statementId and voidedStatementId go with no filter (rules over
    # several parameters).
    ("bad-request", "more"),
    ("bad-request", "agent"),
    ("bad-request", "statementId"),
    ("bad-request", "voidedStatementId"),
    # xAPI 1.0.x: a PUT of a profile document sends If-Match or If-None-Match (one of two
    # headers, in one version).
    ("bad-request", "If-Match"),
    # xAPI accounts: the home page configured for the calling client.
    ("bad-request", "actor.account.homePage"),
    # Uptake dates start at IQT_UPTAKE_PROGRAMME_START, which is configuration.
    ("validation-error", "from"),
    ("validation-error", "asOf"),
    # `to` not before `from`: a rule over two parameters.
    ("validation-error", "to"),
    # References to what must already exist: a staff member, an organisation, a parent
    # organisation, an ESR staff group (reference data in the database).
    ("validation-error", "employeeNumber"),
    ("validation-error", "reviewerEmployeeNumber"),
    ("validation-error", "team.*.employeeNumber"),
    ("validation-error", "organisation"),
    ("validation-error", "parentOdsCode"),
    ("validation-error", "staffGroup"),
    # A course the catalogue holds.
    ("validation-error", "courseCode"),
    # Rules over several values: a course named once in a rules level, and no more courses
    # required than it names; each person once in a
    # team (with one role); endDate not before startDate; an e-mail address within the lengths
    # RFC 5321 allows per part; employeeNumber or workEmail (one of the two).
    ("validation-error", "levels.*.courses"),
    ("validation-error", "levels.*.minimumCourses"),
    ("validation-error", "team"),
    ("validation-error", "body"),
    ("validation-error", "workEmail"),
    # Not in the future: a rule against the clock. A change not ending before it starts.
    ("validation-error", "completedAt"),
    ("validation-error", "changes.*"),
    # The same Idempotency-Key with another payload (a key an earlier case used).
    ("validation-error", "Idempotency-Key"),
    # Event types are the ones the service writes; the parameter is a comma-separated list.
    ("bad-request", "types"),
    # DELETE /completions/{id}: the reason comes in the query or in the body; OpenAPI cannot
    # require "one of the two".
    ("validation-error", "reason"),
    # A staff batch names a snapshot only with mode fullSnapshot: a rule over two fields.
    ("validation-error", "snapshot"),
}

# Limits every field has beyond what JSON Schema says (README, "Errors"): text without NUL or
# unpaired surrogates (no database stores them), dates from 1948-07-05 (the NHS began) to
# 2099-12-31. A schema-valid case refused for these reasons alone is not wrongly rejected.
EDGE_LIMIT_REASONS = (
    "Must not contain NUL",
    "Must not contain unpaired surrogates",
    "Must be on or after 1948-07-05",
    "Must be on or before 2099-12-31",
    "Is in the future",
    "Must not be in the future",
)

SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=not DEEP,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


async def _client(
    make_client: ClientFactory, settings: Settings, name: str, organisations: list[str] | None
) -> FuzzClient:
    created = await make_client(name=name, organisations=organisations)
    token = issue_token(settings, created["client_id"], sorted(ALL_SCOPES), organisations)
    return FuzzClient(name, created["client_id"], created["client_secret"], f"Bearer {token}")


@pytest.fixture
async def full_scope(
    make_client: ClientFactory, settings: Settings, fuzz_app: Any, seeded: dict[str, Any]
) -> tuple[FuzzClient, dict[str, Any]]:
    return await _client(make_client, settings, "full scope", None), seeded


@pytest.fixture
async def restricted(
    make_client: ClientFactory, settings: Settings, fuzz_app: Any, seeded: dict[str, Any]
) -> tuple[FuzzClient, dict[str, Any]]:
    return await _client(make_client, settings, "restricted to 7A4", ["7A4"]), seeded


def _call(case: Any, client: FuzzClient, seeded: dict[str, Any]) -> None:
    for name, value in (case.path_parameters or {}).items():
        if name in seeded and value in EXAMPLES.get(name, ()):
            case.path_parameters[name] = seeded[name]
    CASES[client.name] += 1
    headers = client.headers_for(case.operation)
    # schemathesis bounds each call by 10 s of wall clock: on a loaded machine a batch took
    # longer, the call was cancelled mid-transaction and the test failed. Only a case that
    # never answers should fail on time.
    response = case.call(headers=headers, timeout=PATIENCE)
    case.validate_response(
        response,
        checks=ALL_CHECKS,
        excluded_checks=_inapplicable(case, response),
        headers=headers,
        transport_kwargs={"headers": headers, "timeout": PATIENCE},
    )


# The xAPI statement body is defined by the xAPI specification (actor, verb, object, ...), which
# the document names rather than repeats (``type: object``): valid xAPI cannot be generated from
# it, so positive_data_acceptance does not apply to these two operations.
XAPI_OPERATIONS = {"POST /xapi/statements", "PUT /xapi/statements"}
# The same for CSV batch bodies (text/csv, application/octet-stream): the document types them as
# text and names their columns in prose; a generated string is not a CSV file with those columns
# (and a CSV staff batch names its mode in the query, which only applies to CSV).
# Batches validate each record on its own and answer 200 with per-record rejections (a bad
# record must not refuse the good ones): an invalid record is rejected inside a 200.
BATCH_OPERATIONS = {"POST /staffBatches", "POST /completionBatches"}


def _inapplicable(case: Any, response: Any) -> list[Any]:
    label = case.operation.label
    if (
        label in XAPI_OPERATIONS
        or case.media_type in CSV_MEDIA_TYPES
        or _beyond_the_schema(response)
    ):
        return [positive_data_acceptance]
    if label in BATCH_OPERATIONS and _records_rejected(response):
        return [negative_data_rejection]
    return []


def _records_rejected(response: Any) -> bool:
    return response.status_code == 200 and response.json().get("rejected", 0) > 0


def _beyond_the_schema(response: Any) -> bool:
    if response.status_code not in (400, 422):
        return False
    problem = response.json()
    slug = problem.get("type", "").rsplit("/", 1)[-1]
    params = problem.get("invalidParams") or []
    return bool(params) and all(
        any(slug == kind and fnmatch(param["name"], pattern) for kind, pattern in BEYOND_THE_SCHEMA)
        or any(limit in param["reason"] for limit in EDGE_LIMIT_REASONS)
        for param in params
    )


@schema.parametrize()
@SETTINGS
def test_full_scope_client(case: Any, full_scope: tuple[FuzzClient, dict[str, Any]]) -> None:
    _call(case, *full_scope)


@schema.parametrize()
@SETTINGS
def test_restricted_client(case: Any, restricted: tuple[FuzzClient, dict[str, Any]]) -> None:
    _call(case, *restricted)
