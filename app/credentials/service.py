"""The credentials' operations: public documents, issuing, revocation, verification."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.awards.facts import Level
from app.awards.rules_document import AwardRulesDocument
from app.awards.service import get_current_rules
from app.core.problems import NotFound
from app.core.settings import Settings
from app.credentials.achievements import OB_CONTEXT, CredentialUrls, achievement, issuer_profile


def issuer_document(urls: CredentialUrls, settings: Settings) -> dict[str, Any]:
    return {"@context": OB_CONTEXT, **issuer_profile(urls, settings.credential_issuer_name)}


async def achievement_document(
    session: AsyncSession, urls: CredentialUrls, settings: Settings, level: Level
) -> dict[str, Any]:
    rules, version = await current_rules(session)
    return {
        "@context": OB_CONTEXT,
        **achievement(urls, settings.credential_issuer_name, level, rules, version),
    }


async def current_rules(session: AsyncSession) -> tuple[AwardRulesDocument, int]:
    rules = await get_current_rules(session)
    return AwardRulesDocument.model_validate(rules.document), rules.version


def key_set(urls: CredentialUrls, settings: Settings) -> dict[str, Any]:
    """The JWK set of every key of the ring, the signing key first."""
    return {"keys": [key.public_jwk(urls.key(key.kid)) for key in settings.credential_keys]}


def public_key(urls: CredentialUrls, settings: Settings, kid: str) -> dict[str, Any]:
    for key in settings.credential_keys:
        if key.kid == kid:
            return key.public_jwk(urls.key(kid))
    raise NotFound(f"No credential key {kid}.")
