"""The database itself keeps one active award per (person, level), on both databases."""

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.awards.rules_document import DEFAULT_RULES_JSON
from app.models import AwardRules
from tests.awards.conftest import events_of, insert_award, legacy
from tests.conftest import auth

AT = datetime(2024, 1, 1, tzinfo=UTC)
REVOKED = {
    "status": "revoked",
    "revoked_at": AT,
    "revoked_reason": "evidenceRetracted",
    "revocation_cause": "evidenceRetracted",
}


async def test_the_migration_seeds_rules_version_1_as_the_default_rules(
    session: AsyncSession,
) -> None:
    stored = await session.scalar(select(AwardRules).where(AwardRules.version == 1))
    assert stored is not None and stored.document == DEFAULT_RULES_JSON


async def test_two_active_awards_of_one_level_for_one_person_are_refused(
    admin: dict[str, str], session: AsyncSession
) -> None:
    await insert_award(session, "100001", "bronze", AT)
    with pytest.raises(IntegrityError):
        await insert_award(session, "100001", "bronze", AT)
    await session.rollback()


async def test_revoked_awards_do_not_count_against_the_one_active_award(
    admin: dict[str, str], session: AsyncSession
) -> None:
    await insert_award(session, "100001", "bronze", AT, **REVOKED)
    await insert_award(session, "100001", "bronze", AT, **REVOKED)
    await insert_award(session, "100001", "bronze", AT)
    await insert_award(session, "100001", "silver", AT)
    await insert_award(session, "200001", "bronze", AT)


async def test_a_revoked_award_must_say_when_and_why(
    admin: dict[str, str], session: AsyncSession
) -> None:
    with pytest.raises(IntegrityError):
        await insert_award(session, "100001", "bronze", AT, status="revoked")
    await session.rollback()


async def test_concurrent_legacy_imports_record_one_award(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    responses = await asyncio.gather(
        *(
            client.post("/awards", json=legacy(reference=f"register row {n}"), headers=auth(admin))
            for n in range(10)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert len(await events_of(client, admin, "awardGranted")) == 1
