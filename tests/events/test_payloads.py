"""Typed events read on the feed exactly as the dicts they replaced did: same keys, same order
(SQLite stores the JSON as written), nulls kept or left out as before, handler-only fields
(staff ids) never shown."""

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import ClassVar

import pytest

from app.awards.events import AwardEvidence, AwardGranted, AwardRevoked
from app.completions.events import CompletionRecorded
from app.completions.schemas import MatchStatus
from app.events import domain
from app.events.domain import ENVELOPE, INTERNAL, OMITTED_WHEN_NONE, FeedEvent, payload
from app.events.service import EVENT_TYPES
from app.projects.events import ProjectApproved, TeamMember
from app.staff.events import StaffEndDated

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _same(event: object, expected: dict[str, object]) -> None:
    assert json.dumps(payload(event)) == json.dumps(expected)


def test_a_completion_keeps_its_nulls_and_hides_the_staff_id() -> None:
    event = CompletionRecorded(
        completion_id=7,
        organisation=None,
        staff_id=None,
        course_code="IQT-BRONZE",
        completed_at=AT,
        passed=True,
        score_scaled=None,
        match_status="unmatched",
        employee_number=None,
    )
    _same(
        event,
        {
            "courseCode": "IQT-BRONZE",
            "completedAt": AT.isoformat(),
            "passed": True,
            "scoreScaled": None,
            "matchStatus": "unmatched",
            "employeeNumber": None,
        },
    )
    assert (event.resource_id, event.organisation) == ("7", None)


def test_a_revocation_names_the_award_it_cascaded_from_only_when_it_did() -> None:
    own = AwardRevoked(1, "7A4", 9, "100001", "bronze", "Wrong person.", "administrator")
    cascaded = AwardRevoked(
        2, "7A4", 9, "100001", "silver", "Wrong person.", "levelBelowRevoked", 1
    )
    _same(
        own,
        {
            "employeeNumber": "100001",
            "level": "bronze",
            "reason": "Wrong person.",
            "cause": "administrator",
        },
    )
    assert payload(cascaded)["cascadedFrom"] == 1 and list(payload(cascaded))[-1] == "cascadedFrom"


def test_a_grant_carries_its_evidence_as_stored() -> None:
    event = AwardGranted(
        award_id=3,
        organisation="7A4",
        staff_id=9,
        employee_number="100001",
        level="bronze",
        attained_at=AT,
        granted_at=AT,
        rules_version=2,
        evidence=AwardEvidence.of(
            {"completionIds": [5], "projectIds": [], "legacyReference": None}
        ),
    )
    _same(
        event,
        {
            "employeeNumber": "100001",
            "level": "bronze",
            "attainedAt": AT.isoformat(),
            "grantedAt": AT.isoformat(),
            "rulesVersion": 2,
            "evidence": {"completionIds": [5], "projectIds": [], "legacyReference": None},
        },
    )


def test_an_end_date_says_why_only_for_a_snapshot_leaver() -> None:
    _same(StaffEndDated("7A4", "100001", date(2026, 3, 1)), {"endDate": "2026-03-01"})
    _same(
        StaffEndDated("7A4", "100001", date(2026, 3, 1), reason="absentFromFullSnapshot"),
        {"endDate": "2026-03-01", "reason": "absentFromFullSnapshot"},
    )


def test_an_approval_lists_the_team_without_their_staff_ids() -> None:
    team = (TeamMember("100001", "lead", 11), TeamMember("100002", "mentor", 12))
    _same(
        ProjectApproved(9, "7A4", "approved", 4, team),
        {
            "status": "approved",
            "reviewId": 4,
            "team": [
                {"employeeNumber": "100001", "role": "lead"},
                {"employeeNumber": "100002", "role": "mentor"},
            ],
        },
    )


def _feed_event_classes() -> dict[str, type[FeedEvent]]:
    import app.main  # noqa: F401 - every domain, and so every event class, imported

    found: dict[str, type[FeedEvent]] = {}
    waiting: list[type[FeedEvent]] = [FeedEvent]
    while waiting:
        for sub in waiting.pop().__subclasses__():
            waiting.append(sub)
            if "feed_type" not in vars(sub) or not sub.__module__.startswith("app."):
                continue  # a base of several (AwardEvent), or a test's own
            assert sub.feed_type not in found, f"{sub.feed_type} is declared twice"
            found[sub.feed_type] = sub
    return found


def test_the_feed_types_clients_may_ask_for_are_the_declared_event_classes() -> None:
    """``/events?types=`` accepts EVENT_TYPES: an event class left out of it would fail when
    written, and a name with no class would be accepted but never appear."""
    assert sorted(_feed_event_classes()) == sorted(EVENT_TYPES)


def test_an_events_fields_are_read_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """The field list of each event class is worked out once, not for every event: the
    busiest write publishes two events a completion."""

    @dataclass(frozen=True)
    class Noted(FeedEvent):
        feed_type: ClassVar[str] = "noted"
        resource_type: ClassVar[str] = "note"
        organisation: str | None = field(default=None, metadata=ENVELOPE)
        staff_id: int = field(default=0, metadata=INTERNAL)
        match_status: MatchStatus = MatchStatus.MATCHED
        reason_given: str | None = field(default=None, metadata=OMITTED_WHEN_NONE)

    calls = []
    real_fields = dataclasses.fields
    monkeypatch.setattr(
        domain.dataclasses, "fields", lambda of: calls.append(of) or real_fields(of)
    )
    assert [payload(Noted(staff_id=n)) for n in range(3)] == [{"matchStatus": "matched"}] * 3
    assert len(calls) == 1
    # An enum member deriving from str is sent as its plain value, as before.
    assert type(payload(Noted(reason_given="x"))["matchStatus"]) is str
    assert payload(Noted(reason_given="x")) == {"matchStatus": "matched", "reasonGiven": "x"}
