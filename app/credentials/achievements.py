"""The issuer's Profile and the Bronze, Silver and Gold Achievements of Open Badges 3.0.

Pure: the public base URL, the issuer's name and the current award rules document in, JSON-LD
objects out. Each has a stable public URL (``CredentialUrls``) that answers it without
authentication, and every credential embeds the same objects.
"""

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.awards.facts import Level, ProjectOutcome, ProjectRole
from app.awards.rules_document import AwardRulesDocument

OB_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
KEYS_PATH = "/credentials/keys/"
STATUS_LISTS_PATH = "/credentials/statusLists/"
JWKS_PATH = "/.well-known/jwks.json"

_DESCRIPTIONS = {
    Level.BRONZE: "The first level of Improving Quality Together, NHS Wales' quality improvement "
    "programme: the holder has completed the IQT training in the principles and tools of "
    "quality improvement.",
    Level.SILVER: "The second level of Improving Quality Together: the holder has identified "
    "something in their work to improve, made a genuine attempt to improve it with quality "
    "improvement methods, and reflected on what they learned.",
    Level.GOLD: "The third level of Improving Quality Together: the holder is a champion of "
    "quality improvement who mentors or leads others so that they improve their work too.",
}
_COLOURS = {Level.BRONZE: "#a0643c", Level.SILVER: "#8c969b", Level.GOLD: "#c8a01e"}
_ROLES = {
    ProjectRole.LEAD: "lead",
    ProjectRole.MEMBER: "team member",
    ProjectRole.SPONSOR: "sponsor",
    ProjectRole.MENTOR: "mentor",
}
_OUTCOMES = {
    ProjectOutcome.IMPROVED: "improved",
    ProjectOutcome.NO_CHANGE: "no change",
    ProjectOutcome.WORSE: "worse",
    ProjectOutcome.INCONCLUSIVE: "inconclusive",
}


@dataclass(frozen=True)
class CredentialUrls:
    """Where each public part of the credentials lives, under the service's public base URL."""

    base: str

    @property
    def issuer(self) -> str:
        return f"{self.base}/credentials/issuer"

    @property
    def jwks(self) -> str:
        return f"{self.base}{JWKS_PATH}"

    def achievement(self, level: Level) -> str:
        return f"{self.base}/credentials/achievements/{level}"

    def key(self, kid: str) -> str:
        """The ``kid`` of a JWS header: a URL that answers the key's public JWK."""
        return f"{self.base}{KEYS_PATH}{kid}"

    def status_list(self, number: int) -> str:
        return f"{self.base}{STATUS_LISTS_PATH}{number}"


def issuer_profile(urls: CredentialUrls, name: str) -> dict[str, Any]:
    return {"id": urls.issuer, "type": ["Profile"], "name": name, "url": urls.base}


def achievement(
    urls: CredentialUrls, issuer_name: str, level: Level, rules: AwardRulesDocument, version: int
) -> dict[str, Any]:
    """The OB 3.0 ``Achievement`` of one level, its criteria from the rules document."""
    name = f"IQT {level.label}"
    return {
        "id": urls.achievement(level),
        "type": ["Achievement"],
        "achievementType": "Award",
        "name": name,
        "description": _DESCRIPTIONS[level],
        "criteria": {"narrative": criteria_narrative(level, rules, version)},
        "image": {"id": _image(level), "type": "Image", "caption": f"The {name} badge"},
        "creator": issuer_profile(urls, issuer_name),
        "inLanguage": "en-GB",
        "humanCode": f"IQT-{level.label.upper()}",
    }


def criteria_narrative(level: Level, rules: AwardRulesDocument, version: int) -> str:
    """What the level takes under this rules document, in words (Markdown)."""
    levels = rules.levels
    if level is Level.BRONZE:
        bronze = levels.bronze
        sources = []
        if bronze.catalogue_courses:
            sources.append("the courses the IQT catalogue counts towards Bronze (the IQT training)")
        if bronze.courses:
            sources.append("these courses: " + ", ".join(c.code for c in bronze.courses))
        text = (
            f"Complete {_count(bronze.minimum_courses, 'course', 'different courses')} from "
            f"{' or '.join(sources)}, with a pass and the minimum score where the course sets "
            "them."
        )
    elif level is Level.SILVER:
        silver = levels.silver
        text = (
            "Hold IQT Bronze; then, as "
            f"{_either(_ROLES[r] for r in silver.roles)}, take part in "
            f"{_count(silver.minimum_projects, 'improvement project')} approved on review: "
            "identify something in your work to improve, make a genuine attempt to improve it, "
            "and reflect on what you learned. The change does not have to succeed: projects "
            f"whose outcome was {_either(_OUTCOMES[o] for o in silver.outcomes)} count."
        )
    else:
        gold = levels.gold
        led = " led by someone else" if gold.lead_must_be_another_person else ""
        text = (
            "Hold IQT Silver, and champion quality improvement: act as "
            f"{_either(_ROLES[r] for r in gold.roles)} for "
            f"{_count(gold.minimum_mentored_projects, 'approved improvement project')}{led}, "
            f"whose outcome was {_either(_OUTCOMES[o] for o in gold.outcomes)}."
        )
    return f"{text}\n\nUnder version {version} of the IQT award rules."


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun}" if number == 1 else f"at least {number} {plural or noun + 's'}"


def _either(words: Iterable[str]) -> str:
    items = list(words)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _image(level: Level) -> str:
    """A round badge in the level's colour, as an SVG data URI (no image to host)."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 200 200">'
        f'<circle cx="100" cy="100" r="92" fill="{_COLOURS[level]}" stroke="#1e3c5a" '
        'stroke-width="8"/><text x="100" y="92" font-family="sans-serif" font-size="40" '
        'text-anchor="middle" fill="#fff">IQT</text><text x="100" y="132" '
        'font-family="sans-serif" font-size="24" text-anchor="middle" fill="#fff">'
        f"{level.label}</text></svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
