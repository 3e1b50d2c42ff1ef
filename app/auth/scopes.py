"""The OAuth2 scopes a client may hold; each endpoint states the ones it needs."""

from enum import StrEnum


class Scope(StrEnum):
    ORGANISATIONS_READ = "organisations:read"
    ORGANISATIONS_WRITE = "organisations:write"
    STAFF_READ = "staff:read"
    STAFF_WRITE = "staff:write"
    COURSES_READ = "courses:read"
    COURSES_WRITE = "courses:write"
    COMPLETIONS_READ = "completions:read"
    COMPLETIONS_WRITE = "completions:write"
    PROJECTS_READ = "projects:read"
    PROJECTS_WRITE = "projects:write"
    PROJECTS_REVIEW = "projects:review"
    AWARDS_READ = "awards:read"
    AWARDS_WRITE = "awards:write"
    UPTAKE_READ = "uptake:read"
    EVENTS_READ = "events:read"
    AUDIT_READ = "audit:read"
    METRICS_READ = "metrics:read"
    PERSONAL_DATA_READ = "personalData:read"
    PERSONAL_DATA_ERASE = "personalData:erase"


ALL_SCOPES = frozenset(s.value for s in Scope)

SCOPE_DESCRIPTIONS = {
    Scope.ORGANISATIONS_READ: "Read organisations",
    Scope.ORGANISATIONS_WRITE: "Create and change organisations",
    Scope.STAFF_READ: "Read staff records (personal data)",
    Scope.STAFF_WRITE: "Create and change staff records",
    Scope.COURSES_READ: "Read the course catalogue",
    Scope.COURSES_WRITE: "Create and change courses in the catalogue",
    Scope.COMPLETIONS_READ: "Read course completions",
    Scope.COMPLETIONS_WRITE: "Record and retract course completions",
    Scope.PROJECTS_READ: "Read improvement projects",
    Scope.PROJECTS_WRITE: "Create and change improvement projects",
    Scope.PROJECTS_REVIEW: "Review improvement projects",
    Scope.AWARDS_READ: "Read awards and award rules",
    Scope.AWARDS_WRITE: "Change award rules, record and revoke awards",
    Scope.UPTAKE_READ: "Read uptake aggregates (no personal data)",
    Scope.EVENTS_READ: "Follow the event feed",
    Scope.AUDIT_READ: "Read the audit trail",
    Scope.METRICS_READ: "Read the Prometheus metrics (no personal data)",
    Scope.PERSONAL_DATA_READ: (
        "Export everything held about one person (subject access); for information governance"
    ),
    Scope.PERSONAL_DATA_ERASE: "Record erasure requests and pseudonymise; information governance",
}
