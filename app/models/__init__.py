"""All ORM tables, imported here so that metadata (and Alembic) sees every one."""

from app.models.api_client import ApiClient
from app.models.audit_record import AuditRecord
from app.models.base import Base
from app.models.event import Event
from app.models.organisation import Organisation
from app.models.staff import StaffGroup, StaffHistory, StaffMember

__all__ = [
    "ApiClient",
    "AuditRecord",
    "Base",
    "Event",
    "Organisation",
    "StaffGroup",
    "StaffHistory",
    "StaffMember",
]
