"""Open Badges tests: 1EdTech's vendored JSON schema, and awards cleaned up after each test."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from app.models import Award, AwardEvaluationJob, AwardRules

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
        await connection.execute(delete(Award))
        await connection.execute(delete(AwardRules).where(AwardRules.version > 1))
