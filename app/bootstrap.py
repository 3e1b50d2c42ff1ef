"""Which domain listens to which: the message bus's handlers, assembled in one place.

Domains publish their own typed events (``app/<domain>/events.py``) and never call one
another's internals; this module is the only one that knows both sides. Every handler runs in
the publisher's transaction (``app/events/bus.py``): award evaluation must see and lock what
the change wrote, and its grants commit or roll back with it; the uptake projection's note of
who changed commits with the change, so the worker never misses one.
"""

from collections.abc import Mapping, Sequence

from app.awards.events import AwardGranted, AwardRedated, AwardRevoked
from app.awards.handlers import evaluate_completion_holders, evaluate_project_teams
from app.completions.events import CompletionMatched, CompletionRecorded, CompletionRetracted
from app.completions.matching import match_unmatched_completions
from app.credentials.revocation import revoke_credentials
from app.events import bus
from app.events.domain import DomainEvent
from app.projects.events import ProjectApproved
from app.staff.events import StaffIdentified, StaffPlacementChanged
from app.uptake.handlers import note_people_changed, note_people_placed

HANDLERS: Mapping[type[DomainEvent], Sequence[bus.Handler]] = {
    # A person became known or changed e-mail: completions kept for them are matched.
    StaffIdentified: [match_unmatched_completions],
    # New, matched or retracted evidence: the people's awards are evaluated again.
    CompletionRecorded: [evaluate_completion_holders],
    CompletionMatched: [evaluate_completion_holders],
    CompletionRetracted: [evaluate_completion_holders],
    ProjectApproved: [evaluate_project_teams],
    # An award revoked revokes its credential; its holder's level changed (below).
    AwardRevoked: [revoke_credentials, note_people_changed],
    # Whoever changed place, period or level is noted for the uptake figures, which the
    # projection worker refreshes off the request path.
    StaffPlacementChanged: [note_people_placed],
    AwardGranted: [note_people_changed],
    AwardRedated: [note_people_changed],
}


def bootstrap() -> None:
    """Registers the handlers; every process calls it before it writes (idempotent)."""
    bus.configure(HANDLERS)
