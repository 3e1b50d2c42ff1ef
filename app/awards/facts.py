"""The facts the award rules decide on: plain, frozen data about one person.

How evaluation (``app/awards/evaluation.py``) will use them, in the transaction of the change
that may alter someone's level (a completion recorded, matched or retracted; a project
approved; a legacy award imported; a new rules version):

1. **Gather** (one query per kind for a whole batch of people, never one per person):
   - lock the people first (``SELECT ... FOR UPDATE`` on their ``staff_members`` rows on
     PostgreSQL; SQLite writers are already serialised), so two evaluations of one person
     queue instead of racing; the partial unique index "one active award per (person, level)"
     is the backstop that makes a race grant one award, never two;
   - their matched, non-retracted completions → ``CompletionFact``;
   - the catalogue entries of those courses → ``CourseFact`` (shared by everyone evaluated);
   - the approved projects on whose team they are → ``ProjectFact`` (their role, the lead);
   - their active awards → ``AwardFact``, and awards an administrator revoked →
     ``PersonFacts.revoked_by_administrator``.
2. **Decide**: ``rules.decide(facts, document, rules_version=..., courses=...)`` under the
   current rules version. Pure: no session, no clock, no I/O.
3. **Persist the difference**: ``changes.plan_award_changes(...)`` says which levels to grant
   (with ``attained_at`` and evidence from the decision), which active awards to revoke with
   reason ``evidenceRetracted`` (cascading to the levels above), and which to date again from
   their evidence (earlier evidence arrived, or what they rested on was retracted). The service
   writes them with ``awardGranted`` / ``awardRevoked`` / ``awardRedated`` events. Awards
   already granted stand when the rules change: an award is revoked only when evidence it
   names has gone and its level is no longer reached under the rules version it was granted
   under.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Level(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"

    @property
    def rank(self) -> int:
        return LEVELS.index(self)

    @property
    def label(self) -> str:
        return self.value.capitalize()


# Cumulative, lowest first: a level needs every level before it.
LEVELS: tuple[Level, ...] = (Level.BRONZE, Level.SILVER, Level.GOLD)


class ProjectRole(StrEnum):
    LEAD = "lead"
    MEMBER = "member"
    SPONSOR = "sponsor"
    MENTOR = "mentor"


class ProjectOutcome(StrEnum):
    IMPROVED = "improved"
    NO_CHANGE = "noChange"
    WORSE = "worse"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class CourseFact:
    """A catalogue course as the rules need it. Scores are scaled 0..1 (xAPI ``scaled``)."""

    code: str
    counts_towards: Level | None
    pass_required: bool
    minimum_score: float | None = None


@dataclass(frozen=True)
class CompletionFact:
    """One matched, non-retracted completion of this person."""

    id: int
    course_code: str
    completed_at: datetime
    passed: bool | None
    score_scaled: float | None = None


@dataclass(frozen=True)
class ProjectFact:
    """One approved project on whose team this person is, with their role on it."""

    id: int
    approved_at: datetime
    role: ProjectRole
    lead_staff_id: int | None
    outcome: ProjectOutcome


@dataclass(frozen=True)
class AwardFact:
    """An award of this person (active, or revoked)."""

    id: int
    level: Level
    attained_at: datetime  # when its evidence completed the level (legacy: when granted)
    rules_version: int | None  # None: a legacy award recorded from before this service
    completion_ids: frozenset[int] = frozenset()
    project_ids: frozenset[int] = frozenset()
    revoked_at: datetime | None = None

    @property
    def legacy(self) -> bool:
        return self.rules_version is None


@dataclass(frozen=True)
class PersonFacts:
    """Everything the rules may look at about one person."""

    staff_id: int
    completions: tuple[CompletionFact, ...] = ()
    projects: tuple[ProjectFact, ...] = ()
    awards: tuple[AwardFact, ...] = ()  # active awards
    # Awards an administrator revoked: their evidence alone must not earn the level again.
    revoked_by_administrator: tuple[AwardFact, ...] = field(default=())
    # Awards revoked for any other reason: the rules ignore them; the uptake counts the days
    # they were held.
    revoked_otherwise: tuple[AwardFact, ...] = field(default=())
