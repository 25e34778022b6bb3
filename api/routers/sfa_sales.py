"""SFA HTTP API: pipeline stages, opportunities (stage by name, ETags) and activities."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status
from fastapi.responses import JSONResponse

from api.deps import ClockDep, SessionDep, require
from api.routers.sfa_common import PageDep, Reader, Writer, guarded, not_modified, with_etag
from core.auth import Principal, Role
from sfa import activities, opportunities, pipeline, proposals
from sfa.pipeline_schemas import (
    OpportunityCreate,
    OpportunityRead,
    OpportunityUpdate,
    ProposalCreate,
    ProposalRead,
    ProposalUpdate,
    StageChangeRead,
    StageCreate,
    StageRead,
    StageUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["sfa: pipeline"])
Manager = Annotated[Principal, Depends(require(Role.MANAGER))]


@router.get("/pipeline/stages", summary="List pipeline stages in order")
def get_stages(session: SessionDep, actor: Reader) -> list[StageRead]:
    return [StageRead.model_validate(s) for s in pipeline.list_stages(session)]


@router.post(
    "/pipeline/stages", status_code=status.HTTP_201_CREATED, summary="Add a stage (managers)"
)
def post_stage(body: StageCreate, session: SessionDep, actor: Manager) -> StageRead:
    return StageRead.model_validate(pipeline.create_stage(session, body, actor=actor))


@router.patch("/pipeline/stages/{stage_id}", summary="Rename, reorder or re-weight a stage")
def patch_stage(stage_id: int, body: StageUpdate, session: SessionDep, actor: Manager) -> StageRead:
    return StageRead.model_validate(pipeline.update_stage(session, stage_id, body, actor=actor))


@router.delete(
    "/pipeline/stages/{stage_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an unused stage",
)
def delete_stage(stage_id: int, session: SessionDep, actor: Manager) -> Response:
    pipeline.delete_stage(session, stage_id, actor=actor)
    return Response(status_code=204)


@router.post("/opportunities", status_code=status.HTTP_201_CREATED, summary="Open an opportunity")
def post_opportunity(
    body: OpportunityCreate, session: SessionDep, clock: ClockDep, actor: Writer
) -> JSONResponse:
    opp = opportunities.create_opportunity(session, body, actor=actor, clock=clock)
    stage = pipeline.session_stage(session, opp.stage_id)
    read = opportunities.read_model(opp, stage)
    return with_etag(read, opportunities.opportunity_etag(opp), 201)


@router.get("/opportunities", summary="List visible opportunities")
def get_opportunities(
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    stage: str | None = None,
    owner_id: int | None = None,
    contact_id: int | None = None,
) -> list[OpportunityRead]:
    return opportunities.list_opportunities(
        session, page, actor=actor, stage=stage, owner_id=owner_id, contact_id=contact_id
    )


@router.get(
    "/opportunities/{opportunity_id}",
    summary="Read an opportunity (ETag; If-None-Match answers 304)",
    response_model=OpportunityRead,
)
def get_opportunity(
    opportunity_id: int,
    session: SessionDep,
    actor: Reader,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    opp, stage = opportunities.get_opportunity(session, opportunity_id, actor=actor)
    etag = opportunities.opportunity_etag(opp)
    return not_modified(if_none_match, etag) or with_etag(
        opportunities.read_model(opp, stage), etag
    )


@router.patch(
    "/opportunities/{opportunity_id}",
    summary="Change an opportunity; `stage` by name moves it (If-Match: 412 when stale)",
    response_model=OpportunityRead,
)
def patch_opportunity(
    opportunity_id: int,
    body: OpportunityUpdate,
    session: SessionDep,
    clock: ClockDep,
    actor: Writer,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    result = guarded(
        lambda: opportunities.update_opportunity(
            session, opportunity_id, body, actor=actor, clock=clock, if_match=if_match
        )
    )
    if isinstance(result, JSONResponse):
        return result
    opp, stage = result
    return with_etag(opportunities.read_model(opp, stage), opportunities.opportunity_etag(opp))


@router.delete("/opportunities/{opportunity_id}", summary="Delete an opportunity (tombstone)")
def delete_opportunity(
    opportunity_id: int, session: SessionDep, clock: ClockDep, actor: Writer
) -> OpportunityRead:
    opp = opportunities.delete_opportunity(session, opportunity_id, actor=actor, clock=clock)
    return opportunities.read_model(opp, pipeline.session_stage(session, opp.stage_id))


@router.get(
    "/opportunities/{opportunity_id}/history", summary="The stage-change log of an opportunity"
)
def get_history(opportunity_id: int, session: SessionDep, actor: Reader) -> list[StageChangeRead]:
    return opportunities.stage_history(session, opportunity_id, actor=actor)


@router.post("/activities", status_code=status.HTTP_201_CREATED, summary="Log an activity")
def post_activity(
    body: activities.ActivityCreate, session: SessionDep, clock: ClockDep, actor: Writer
) -> activities.ActivityRead:
    row = activities.create_activity(session, body, actor=actor, clock=clock)
    return activities.ActivityRead.model_validate(row)


@router.get("/activities", summary="List visible activities (due_before: reminders)")
def get_activities(
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    contact_id: int | None = None,
    opportunity_id: int | None = None,
    open_only: bool = False,
    due_before: datetime | None = None,
) -> list[activities.ActivityRead]:
    rows = activities.list_activities(
        session,
        page,
        actor=actor,
        contact_id=contact_id,
        opportunity_id=opportunity_id,
        open_only=open_only,
        due_before=due_before,
    )
    return [activities.ActivityRead.model_validate(r) for r in rows]


@router.patch("/activities/{activity_id}", summary="Edit or complete an activity")
def patch_activity(
    activity_id: int,
    body: activities.ActivityUpdate,
    session: SessionDep,
    clock: ClockDep,
    actor: Writer,
) -> activities.ActivityRead:
    row = activities.update_activity(session, activity_id, body, actor=actor, clock=clock)
    return activities.ActivityRead.model_validate(row)


@router.post("/proposals", status_code=status.HTTP_201_CREATED, summary="Draft a proposal")
def post_proposal(
    body: ProposalCreate, session: SessionDep, clock: ClockDep, actor: Writer
) -> ProposalRead:
    proposal = proposals.create_proposal(session, body, actor=actor, clock=clock)
    return proposals.read_proposal(session, proposal)


@router.get("/proposals/{proposal_id}", summary="Read a proposal with its lines")
def get_proposal(proposal_id: int, session: SessionDep, actor: Reader) -> ProposalRead:
    proposal = proposals.get_proposal(session, proposal_id, actor=actor)
    return proposals.read_proposal(session, proposal)


@router.patch("/proposals/{proposal_id}", summary="Send, accept or reject a proposal")
def patch_proposal(
    proposal_id: int, body: ProposalUpdate, session: SessionDep, clock: ClockDep, actor: Writer
) -> ProposalRead:
    proposal = proposals.update_proposal(session, proposal_id, body, actor=actor, clock=clock)
    return proposals.read_proposal(session, proposal)
