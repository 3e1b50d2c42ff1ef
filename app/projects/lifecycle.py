"""The project lifecycle as a pure transition table: (state, action) → next state.

No database and no HTTP: the service asks this module what an action leads to, and refuses
(409) what the table does not allow, naming the current state and the actions it allows.

    draft ──submit──▶ submitted ──approve──▶ approved
                        │  ▲
                 return │  │ submit
                        ▼  │
                      returned
    draft | submitted | returned ──withdraw──▶ withdrawn

``edit`` (PATCH) keeps the state; approved and withdrawn projects are no longer editable.
"""

from collections.abc import Mapping
from enum import StrEnum


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


class ProjectAction(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    WITHDRAW = "withdraw"


_S, _A = ProjectStatus, ProjectAction

TRANSITIONS: Mapping[tuple[ProjectStatus, ProjectAction], ProjectStatus] = {
    (_S.DRAFT, _A.EDIT): _S.DRAFT,
    (_S.DRAFT, _A.SUBMIT): _S.SUBMITTED,
    (_S.DRAFT, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.SUBMITTED, _A.EDIT): _S.SUBMITTED,
    (_S.SUBMITTED, _A.APPROVE): _S.APPROVED,
    (_S.SUBMITTED, _A.RETURN): _S.RETURNED,
    (_S.SUBMITTED, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.RETURNED, _A.EDIT): _S.RETURNED,
    (_S.RETURNED, _A.SUBMIT): _S.SUBMITTED,
    (_S.RETURNED, _A.WITHDRAW): _S.WITHDRAWN,
}


class TransitionRefused(Exception):
    """The action is not allowed from the current state."""

    def __init__(self, status: ProjectStatus, action: ProjectAction) -> None:
        super().__init__(f"{action} is not allowed on a {status} project")
        self.status = status
        self.action = action
        self.allowed = allowed_actions(status)


def allowed_actions(status: ProjectStatus) -> list[ProjectAction]:
    """The actions the table allows from this state, in the table's order."""
    return [action for (state, action) in TRANSITIONS if state == status]


def next_status(status: ProjectStatus, action: ProjectAction) -> ProjectStatus:
    """The state the action leads to; raises TransitionRefused when it is not allowed."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionRefused(status, action) from None


def is_editable(status: ProjectStatus) -> bool:
    return (status, ProjectAction.EDIT) in TRANSITIONS
