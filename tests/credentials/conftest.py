"""Open Badges tests: 1EdTech's vendored JSON schema, and awards cleaned up after each test."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Award, AwardEvaluationJob, AwardRules, IssuedCredential
from tests.awards.conftest import admin  # noqa: F401 - a fixture: staff 100001 (7A4), 200001 (7A6)
from tests.conftest import auth

SCHEMA = json.loads(
    (Path(__file__).parent / "openbadges" / "achievementcredential.json").read_text()
)


def ob_validator(definition: str | None = None) -> Any:
    """A validator of 1EdTech's AchievementCredential schema, or of one of its definitions."""
    schema = SCHEMA
    if definition is not None:
        schema = {
            "$schema": SCHEMA["$schema"],
            "$defs": SCHEMA["$defs"],
            "$ref": f"#/$defs/{definition}",
        }
    return jsonschema_rs.validator_for(schema)


def schema_errors(validator: Any, document: dict[str, Any]) -> list[str]:
    return [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(autouse=True)
async def _remove_awards(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    engine: AsyncEngine = request.getfixturevalue("engine")
    async with engine.begin() as connection:
        await connection.execute(delete(AwardEvaluationJob))
        await connection.execute(delete(IssuedCredential))
        await connection.execute(delete(Award))
        await connection.execute(delete(AwardRules).where(AwardRules.version > 1))


COURSE = {
    "title": "IQT Bronze e-learning",
    "provider": "Learning@Wales",
    "countsTowards": "bronze",
    "passRequired": True,
}


async def bronze_through_the_api(
    client: httpx.AsyncClient, creds: dict[str, str], number: str = "100001"
) -> tuple[int, int]:
    """The course, and a completion of it by this person that grants Bronze: (completion id,
    award id)."""
    course = await client.put("/courses/IQT-BRONZE", json=COURSE, headers=auth(creds))
    assert course.status_code in (200, 201), course.text
    posted = await client.post(
        "/completions",
        json={
            "employeeNumber": number,
            "courseCode": "IQT-BRONZE",
            "completedAt": "2026-03-04T10:15:00Z",
            "passed": True,
            "externalId": f"moodle-{number}",
        },
        headers=auth(creds),
    )
    assert posted.status_code == 201, posted.text
    awards = (await client.get(f"/staff/{number}/awards", headers=auth(creds))).json()["data"]
    bronze = [a["id"] for a in awards if a["level"] == "bronze" and a["status"] == "active"]
    assert len(bronze) == 1, awards
    return int(posted.json()["id"]), bronze[0]


async def issued(client: httpx.AsyncClient, creds: dict[str, str], award_id: int) -> dict[str, Any]:
    response = await client.get(f"/awards/{award_id}/credential", headers=auth(creds))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def verified_independently(
    token: str, jwks: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a VC-JWT checked with joserfc against the published JWK set."""
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    return dict(decoded.header), dict(decoded.claims)


JWT_CLAIMS = ("iss", "jti", "sub", "nbf", "exp", "iat")
