"""Who is calling: the authenticated client, what it may do, and for which organisations."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.auth.scopes import Scope


@dataclass(frozen=True)
class AuditNote:
    action: str
    resource_type: str
    resource_id: str | None
    organisation: str | None


@dataclass(frozen=True)
class Caller:
    client_id: str
    scopes: frozenset[str]
    # None: every organisation; otherwise only these ODS codes.
    organisations: frozenset[str] | None
    request_id: str
    # Audit entries noted by services during the request; written by the session dependency.
    audit_notes: list["AuditNote"] = field(default_factory=list, compare=False, repr=False)

    def has_scope(self, scope: Scope | str) -> bool:
        return str(scope) in self.scopes

    @property
    def is_restricted(self) -> bool:
        return self.organisations is not None

    def may_access(self, ods_code: str | None) -> bool:
        """True when the caller may see and change data of this organisation."""
        return self.organisations is None or (
            ods_code is not None and ods_code in self.organisations
        )

    def visible(self, ods_codes: Iterable[str]) -> list[str]:
        return [code for code in ods_codes if self.may_access(code)]

    def note_audit(
        self,
        action: str,
        resource_type: str,
        resource_id: str | None = None,
        organisation: str | None = None,
    ) -> None:
        """Notes an auditable action; it is stored with the request's outcome."""
        self.audit_notes.append(AuditNote(action, resource_type, resource_id, organisation))
