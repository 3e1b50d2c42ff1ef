"""An award as an Open Badges 3.0 ``OpenBadgeCredential`` (an ``AchievementCredential``).

Pure: facts in, the credential out. The earner is named only by a salted SHA-256 hash of their
work e-mail address (an ``IdentityObject``), never by the address or their name; the evidence
names the courses and projects the award rests on, with no one else's personal data (no team,
no reviewers).
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.credentials.achievements import OB_CONTEXT, CredentialUrls, issuer_profile
from app.credentials.status_lists import iso_seconds, status_entry

_OUTCOMES = {
    "improved": "improved",
    "noChange": "no change",
    "worse": "worse",
    "inconclusive": "inconclusive",
}


@dataclass(frozen=True)
class CompletionEvidence:
    course_title: str
    completed_at: datetime


@dataclass(frozen=True)
class ProjectEvidence:
    title: str
    outcome: str | None
    approved_at: datetime | None


@dataclass(frozen=True)
class CredentialFacts:
    """What one credential says, gathered from its award and its ``issued_credentials`` row."""

    row_id: int
    credential_uuid: str
    subject_uuid: str
    salt: str
    work_email: str
    attained_at: datetime
    achievement: dict[str, Any]
    completions: tuple[CompletionEvidence, ...] = ()
    projects: tuple[ProjectEvidence, ...] = ()
    legacy_reference: str | None = None


def identity_hash(email: str, salt: str) -> str:
    """Open Badges' IdentityHash: ``sha256$`` and the hex SHA-256 of the address and salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def build_credential(
    urls: CredentialUrls,
    issuer_name: str,
    facts: CredentialFacts,
    *,
    issued_at: datetime,
    validity: timedelta | None,
) -> dict[str, Any]:
    achievement = facts.achievement
    credential: dict[str, Any] = {
        "@context": OB_CONTEXT,
        "id": f"urn:uuid:{facts.credential_uuid}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement["name"],
        "description": f"{achievement['name']}, an award of {issuer_name}.",
        "issuer": issuer_profile(urls, issuer_name),
        "validFrom": iso_seconds(facts.attained_at),
        "awardedDate": iso_seconds(facts.attained_at),
        "credentialSubject": {
            "id": f"urn:uuid:{facts.subject_uuid}",
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(facts.work_email, facts.salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": facts.salt,
                }
            ],
            "achievement": achievement,
        },
        "credentialStatus": status_entry(urls, facts.row_id),
    }
    if validity is not None:
        credential["validUntil"] = iso_seconds(issued_at + validity)
    evidence = _evidence(facts)
    if evidence:
        credential["evidence"] = evidence
    return credential


def _evidence(facts: CredentialFacts) -> list[dict[str, Any]]:
    found = [
        {
            "type": ["Evidence"],
            "name": c.course_title,
            "description": f"Completed the course on {c.completed_at.date().isoformat()}.",
            "genre": "Course completion",
        }
        for c in facts.completions
    ]
    for p in facts.projects:
        said = [f"Outcome: {_OUTCOMES.get(p.outcome or '', 'not recorded')}."]
        if p.approved_at is not None:
            said.append(f"Approved on review on {p.approved_at.date().isoformat()}.")
        found.append(
            {
                "type": ["Evidence"],
                "name": p.title,
                "description": " ".join(said),
                "genre": "Improvement project",
            }
        )
    if facts.legacy_reference:
        found.append(
            {
                "type": ["Evidence"],
                "name": "Award granted before this service",
                "description": f"Recorded as {facts.legacy_reference}.",
                "genre": "Legacy award",
            }
        )
    return found
