"""A person's progress, the rules preview and the re-evaluation job (included by the awards
router, which also runs the job in the background through this router's lifespan)."""

from typing import Annotated

from fastapi import APIRouter, Path

from app.auth.caller import Caller
from app.auth.dependencies import requires
from app.auth.scopes import Scope
from app.awards import progress
from app.awards.evaluation_schemas import (
    CriterionRead,
    EvaluationJobRead,
    JobStatus,
    LevelCounts,
    LevelProgress,
    OrganisationPreview,
    ProgressRead,
    RulesPreviewRead,
)
from app.awards.facts import Level
from app.awards.jobs import background_runner
from app.awards.rules import Decision
from app.awards.rules_document import AwardRulesDocument
from app.core.database import SessionDep, SessionRoute
from app.core.openapi import AUTHENTICATED, problem_responses
from app.staff.parameters import EmployeeNumberPath

# Tagged "Awards" by the awards router that includes it.
router = APIRouter(route_class=SessionRoute, lifespan=background_runner)

VersionPath = Annotated[
    int, Path(alias="version", ge=1, le=2**31 - 1, description="Rules version.", examples=[2])
]


def _levels(decision: Decision) -> list[LevelProgress]:
    return [
        LevelProgress(
            level=result.level,
            reached=result.reached,
            reached_at=result.reached_at,
            attained=result.attained,
            held_award_id=result.held_award_id,
            criteria=[
                CriterionRead(
                    name=c.name,
                    description=c.description,
                    met=c.met,
                    required=c.required,
                    counted=c.counted,
                    met_at=c.met_at,
                    missing=c.missing,
                    completion_ids=list(c.completion_ids),
                    project_ids=list(c.project_ids),
                    award_ids=list(c.award_ids),
                )
                for c in result.criteria
            ],
        )
        for result in decision.levels
    ]


@router.get(
    "/staff/{employeeNumber}/progress",
    summary="Explain a staff member's award progress",
    response_model=ProgressRead,
    responses=problem_responses(*AUTHENTICATED, 404, 422),
)
async def get_staff_progress(
    employee_number: EmployeeNumberPath,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_READ)],
) -> ProgressRead:
    """The level reached and, under the current rules, every criterion of every level: met or
    not, the evidence that met it, and what is still missing."""
    found = await progress.staff_progress(session, caller, employee_number)
    return ProgressRead(
        employee_number=found.member.employee_number,
        organisation=found.member.organisation_ods_code,
        rules_version=found.decision.rules_version,
        level=found.decision.level,
        next_level=found.decision.next_level,
        levels=_levels(found.decision),
    )


@router.post(
    "/awardRules/preview",
    summary="Preview a candidate award rules document",
    response_model=RulesPreviewRead,
    responses=problem_responses(*AUTHENTICATED, 413, 422),
)
async def preview_award_rules(
    body: AwardRulesDocument,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_READ)],
) -> RulesPreviewRead:
    """How many people would newly reach each level, by organisation, if the document became
    the next version. Nothing is written. A client limited to some organisations sees only
    their people."""
    preview = await progress.preview_rules(session, caller, body)
    return RulesPreviewRead(
        current_rules_version=preview.current_rules_version,
        evaluated=preview.evaluated,
        newly_reached=LevelCounts(
            bronze=preview.total(Level.BRONZE),
            silver=preview.total(Level.SILVER),
            gold=preview.total(Level.GOLD),
        ),
        organisations=[
            OrganisationPreview(
                organisation=organisation,
                bronze=counts[Level.BRONZE],
                silver=counts[Level.SILVER],
                gold=counts[Level.GOLD],
            )
            for organisation, counts in preview.by_organisation.items()
        ],
    )


@router.get(
    "/awardRules/{version}/evaluation",
    summary="Get the re-evaluation progress of a rules version",
    response_model=EvaluationJobRead,
    responses=problem_responses(*AUTHENTICATED, 404, 422),
)
async def get_award_rules_evaluation(
    version: VersionPath,
    session: SessionDep,
    caller: Annotated[Caller, requires(Scope.AWARDS_READ)],
) -> EvaluationJobRead:
    """Everyone is re-evaluated after a new version is published: status, people done out of
    the total, and awards granted so far. Poll it until the status is `done`."""
    job = await progress.evaluation_job(session, version)
    return EvaluationJobRead(
        rules_version=job.rules_version,
        status=JobStatus(job.status),
        done=job.done,
        total=job.total,
        granted=job.granted,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        last_error=job.error,
    )
