"""All ORM tables, imported here so that metadata (and Alembic) sees every one."""

from app.models.api_client import ApiClient
from app.models.audit_record import AuditRecord
from app.models.award import Award, AwardEvaluationJob, AwardRules
from app.models.base import Base
from app.models.completion import Completion
from app.models.course import Course, CourseActivity
from app.models.credential import IssuedCredential
from app.models.event import Event
from app.models.idempotency_record import IdempotencyRecord
from app.models.organisation import Organisation
from app.models.personal_data import (
    ErasureRequest,
    PersonalDataCorrection,
    RetentionJob,
    StaffPseudonymisation,
)
from app.models.project import ImprovementProject, ProjectReview, ProjectTeamMember
from app.models.rate_limit_window import RateLimitWindow
from app.models.staff import StaffGroup, StaffHistory, StaffMember
from app.models.staff_snapshot import StaffSnapshot, StaffSnapshotMember
from app.models.uptake import (
    BoardMeeting,
    UptakeBucket,
    UptakePending,
    UptakePersonDelta,
    UptakeProjection,
)
from app.models.xapi_attachment import XapiAttachment
from app.models.xapi_document import XapiDocument
from app.models.xapi_statement import XapiStatement, XapiStatementLink, XapiStatementRefKey

__all__ = [
    "ApiClient",
    "AuditRecord",
    "Award",
    "AwardEvaluationJob",
    "AwardRules",
    "Base",
    "BoardMeeting",
    "Completion",
    "Course",
    "CourseActivity",
    "ErasureRequest",
    "Event",
    "IdempotencyRecord",
    "ImprovementProject",
    "IssuedCredential",
    "Organisation",
    "PersonalDataCorrection",
    "ProjectReview",
    "ProjectTeamMember",
    "RateLimitWindow",
    "RetentionJob",
    "StaffGroup",
    "StaffHistory",
    "StaffMember",
    "StaffPseudonymisation",
    "StaffSnapshot",
    "StaffSnapshotMember",
    "UptakeBucket",
    "UptakePending",
    "UptakePersonDelta",
    "UptakeProjection",
    "XapiAttachment",
    "XapiDocument",
    "XapiStatement",
    "XapiStatementLink",
    "XapiStatementRefKey",
]
