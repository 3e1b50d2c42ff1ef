"""Subject access exports and erasure requests on the wire."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from annotated_types import MaxLen
from pydantic import Field, StringConstraints

from app.core.schemas import ApiInput, ApiModel

# A person's audit trail and events grow with every read: the export holds them all.
EXPORT_MAX_ITEMS = 10_000_000
Rows = Annotated[list[dict[str, Any]], MaxLen(EXPORT_MAX_ITEMS)]
# As app.models.personal_data.ERASURE_GROUNDS.
LegalBasis = Literal[
    "noLongerNecessary", "objectionUpheld", "unlawfulProcessing", "legalObligation"
]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]


class RetentionRead(ApiModel):
    retention_years: int = Field(description="Years after the end date until pseudonymisation.")
    end_date: date | None = Field(description="The person's end date; null while employed.")
    pseudonymise_on: date | None = Field(
        description="The first day the retention job pseudonymises them (null while employed)."
    )
    pseudonymised_at: datetime | None
    rule: str = Field(max_length=1000)


class PersonalDataExport(ApiModel):
    """Everything the service holds about one person (UK GDPR article 15)."""

    employee_number: str = Field(max_length=30)
    generated_at: datetime
    controller: str = Field(max_length=500)
    purposes: list[str]
    lawful_basis: str = Field(max_length=1000)
    recipients: list[str]
    retention: RetentionRead
    staff: Rows = Field(description="The staff record as stored (one row).")
    history: Rows = Field(description="Organisation, staff group and board membership by date.")
    completions: Rows = Field(
        description="Course completions matched to them or sent with their identifiers (an "
        "xAPI one has `channel` xapi and `externalId` the statement id)."
    )
    xapi_statements: Rows = Field(
        description="xAPI statements as stored: those naming them as an agent (by their work "
        "e-mail, its SHA-1, or their employee number as an account), those that made their "
        "completions, and statements referring to these (a voiding statement, say)."
    )
    xapi_documents: Rows = Field(
        description="xAPI State and Agent Profile documents e-learning platforms keep about "
        "them as an agent (`agentKey`), their `content` base64-encoded as stored. Erasure and "
        "pseudonymisation delete them."
    )
    projects: Rows = Field(description="Improvement projects they are on, with their role.")
    reviews_given: Rows
    awards: Rows = Field(description="Awards with their evidence.")
    credentials: Rows = Field(
        description="Open Badges credentials issued for their awards: ids and the salt that "
        "hashes their work e-mail in the credential (docs/open-badges.md)."
    )
    corrections: Rows = Field(description="Rectifications of their names or e-mail: who, why.")
    erasure_requests: Rows
    pseudonymisation: Rows
    snapshot_memberships: Rows
    uptake_contributions: Rows = Field(description="What they add to uptake figures, by day.")
    audit_records: Rows = Field(description="Who read or changed their data, and when.")
    events: Rows = Field(description="Events of the feed naming them.")


class ErasureRequestIn(ApiInput):
    legal_basis: LegalBasis = Field(
        description="The UK GDPR article 17(1) ground: (a) noLongerNecessary, (c) "
        "objectionUpheld, (d) unlawfulProcessing, (e) legalObligation.",
    )
    note: str | None = Field(default=None, max_length=2000)
    override_reason: Reason | None = Field(
        default=None,
        description="Required to erase a current employee: why it cannot wait until they leave.",
    )


class ErasureRequestRead(ApiModel):
    id: int
    employee_number: str = Field(max_length=30)
    legal_basis: str = Field(max_length=30)
    requested_at: datetime
    current_employee: bool
    pseudonymised: bool = Field(description="False when they had been pseudonymised already.")
