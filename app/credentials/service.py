"""The credentials' operations: public documents, issuing, revocation, verification."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.caller import Caller
from app.awards import repository as awards_repository
from app.awards.facts import Level
from app.awards.rules_document import AwardRulesDocument
from app.awards.service import get_current_rules
from app.core.clock import utcnow
from app.core.problems import Conflict, NotFound
from app.core.settings import Settings
from app.credentials import repository, status_lists
from app.credentials.achievements import OB_CONTEXT, CredentialUrls, achievement, issuer_profile
from app.credentials.credential import CredentialFacts, build_credential
from app.credentials.events import CredentialIssued
from app.credentials.signing import JWT_CLAIMS, check_signature, sign
from app.events.bus import publish


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


@dataclass(frozen=True)
class IssuedView:
    token: str
    credential: dict[str, Any]


async def issue_credential(
    session: AsyncSession,
    caller: Caller,
    settings: Settings,
    urls: CredentialUrls,
    award_id: int,
) -> IssuedView:
    """The award's credential, signed now with the signing key. The first time it is asked
    for, its row is made (its id, the earner's salt, its place in the status lists) and
    ``credentialIssued`` recorded; afterwards every copy says the same, signed afresh."""
    row = await awards_repository.get_award(session, award_id)
    visible = row is not None and caller.may_access(row[2])
    caller.note_audit("read", "awardCredential", str(award_id), row[2] if row and visible else None)
    if row is None or not visible:
        raise NotFound(f"No award {award_id}.")
    award, employee_number, organisation = row
    if award.status != "active":
        raise Conflict(
            f"Award {award_id} is revoked: it has no credential to issue (one issued before is "
            "revoked in its status list)."
        )
    email = await repository.work_email(session, award.staff_id)
    if not email:
        raise Conflict(
            f"The holder of award {award_id} has no work e-mail address, which the credential "
            "names its earner by (hashed): record one first."
        )
    issued = await repository.issued_for(session, award_id)
    if issued is None:
        inserted = await repository.insert_if_absent(session, _new_row(award_id, caller))
        issued = await repository.issued_for(session, award_id)
        assert issued is not None
        if inserted:
            event = CredentialIssued(
                award_id=award_id,
                organisation=organisation,
                employee_number=employee_number,
                level=award.level,
                credential_id=f"urn:uuid:{issued.credential_uuid}",
            )
            await publish(session, [event], caller=caller)
    rules, version = await current_rules(session)
    level = Level(award.level)
    evidence = award.evidence
    facts = CredentialFacts(
        row_id=issued.id,
        credential_uuid=issued.credential_uuid,
        subject_uuid=issued.subject_uuid,
        salt=issued.salt,
        work_email=email,
        attained_at=award.attained_at,
        achievement=achievement(urls, settings.credential_issuer_name, level, rules, version),
        completions=await repository.completion_evidence(
            session, list(evidence.get("completionIds", []))
        ),
        projects=await repository.project_evidence(session, list(evidence.get("projectIds", []))),
        legacy_reference=evidence.get("legacyReference"),
    )
    now = utcnow()
    days = settings.credential_validity_days
    credential = build_credential(
        urls,
        settings.credential_issuer_name,
        facts,
        issued_at=now,
        validity=None if days is None else timedelta(days=days),
    )
    token = sign(credential, settings.credential_keys[0], urls, now)
    return IssuedView(token, credential)


def _new_row(award_id: int, caller: Caller) -> dict[str, object]:
    return {
        "award_id": award_id,
        "credential_uuid": str(uuid.uuid4()),
        "subject_uuid": str(uuid.uuid4()),
        "salt": secrets.token_hex(16),
        "issued_at": utcnow(),
        "issued_by_client_id": caller.client_id,
    }


async def status_list_jwt(
    session: AsyncSession, settings: Settings, urls: CredentialUrls, number: int
) -> str:
    """The signed ``BitstringStatusListCredential`` of list ``number``, as of now: a bit set
    for each credential whose award is revoked."""
    first, last = status_lists.row_ids(number)
    if number > 1 and await repository.last_row_id(session) < first:
        raise NotFound(f"No status list {number}: no credential has been issued into it yet.")
    revoked = await repository.revoked_row_ids(session, first, last)
    encoded = status_lists.encode(status_lists.position(row_id)[1] for row_id in revoked)
    now = utcnow()
    credential = status_lists.status_list_credential(urls, number, encoded, now)
    return sign(credential, settings.credential_keys[0], urls, now, media_type="vc+jwt")


@dataclass(frozen=True)
class Verification:
    verified: bool
    failure: str | None
    detail: str
    credential: dict[str, Any] | None


async def verify_credential(session: AsyncSession, settings: Settings, token: str) -> Verification:
    """Checks a VC-JWT as a verifier would: the signature with the key it names, that its
    claims repeat the credential, that it is valid now, and that it was issued here and is
    not revoked. Says which check failed first."""
    checked = check_signature(token, settings.credential_keys)
    if checked.failure is not None or checked.payload is None:
        return Verification(False, checked.failure, checked.detail or "", None)
    payload = checked.payload
    credential = {k: v for k, v in payload.items() if k not in JWT_CLAIMS}
    now = utcnow()
    if _moment(credential["validFrom"]) > now:
        return Verification(False, "notYetValid", "The credential is not valid yet.", credential)
    until = credential.get("validUntil")
    if until is not None and _moment(until) <= now:
        return Verification(False, "expired", f"The credential expired at {until}.", credential)
    uuid_text = str(credential["id"]).removeprefix("urn:uuid:")
    status = await repository.award_status_of_row(session, uuid_text)
    if status is None:
        return Verification(
            False, "notIssued", "This service has no record of issuing the credential.", credential
        )
    if status != "active":
        return Verification(False, "revoked", "The credential has been revoked.", credential)
    return Verification(
        True, None, "The signature holds, the credential is valid now and not revoked.", credential
    )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
