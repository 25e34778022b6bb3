"""Campaigns: journeys, lifecycle, the task plan and the dry run."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from api.deps import ClockDep, DispatcherDep, PrincipalDep, SessionDep, require
from core.auth import Role
from ema import service, simulate, tasks
from ema.journey import DEFAULT_CHANNELS
from ema.models import CampaignStatus
from ema.schemas import (
    CampaignCreate,
    CampaignRead,
    CampaignSummary,
    CampaignUpdate,
    PlanRead,
    SimulateRequest,
    SimulationRead,
    TaskCreate,
    TaskRead,
    TaskUpdate,
)

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])
READ = [Depends(require(Role.PLANNER, Role.MANAGER))]
WRITE = [Depends(require(Role.PLANNER))]


def available_channels(dispatcher: DispatcherDep) -> frozenset[str]:
    """Channels a journey may use: the defaults plus what this deployment registered."""
    return DEFAULT_CHANNELS | dispatcher.channels.names()


ChannelsDep = Annotated[frozenset[str], Depends(available_channels)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=WRITE, summary="Create a campaign"
)
def post_campaign(
    body: CampaignCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    channels: ChannelsDep,
) -> CampaignRead:
    campaign = service.create_campaign(
        session, body, actor=principal, clock=clock, channels=channels
    )
    return service.read_campaign(session, campaign.id)


@router.get("", dependencies=READ, summary="List campaigns")
def get_campaigns(
    session: SessionDep, status: CampaignStatus | None = None
) -> list[CampaignSummary]:
    found = service.list_campaigns(session, status=status.value if status else None)
    return [CampaignSummary.model_validate(c) for c in found]


@router.get(
    "/{campaign_id}", dependencies=READ, summary="Read a campaign with status and step counts"
)
def get_campaign(campaign_id: int, session: SessionDep) -> CampaignRead:
    return service.read_campaign(session, campaign_id)


@router.patch("/{campaign_id}", dependencies=WRITE, summary="Edit a draft campaign")
def patch_campaign(
    campaign_id: int,
    body: CampaignUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
    channels: ChannelsDep,
) -> CampaignRead:
    service.update_campaign(
        session, campaign_id, body, actor=principal, clock=clock, channels=channels
    )
    return service.read_campaign(session, campaign_id)


@router.post("/{campaign_id}/launch", dependencies=WRITE, summary="Launch (enrol the audience)")
def post_launch(
    campaign_id: int, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> CampaignRead:
    service.launch_campaign(session, campaign_id, actor=principal, clock=clock)
    return service.read_campaign(session, campaign_id)


@router.post("/{campaign_id}/pause", dependencies=WRITE, summary="Pause: no new outbox rows")
def post_pause(
    campaign_id: int, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> CampaignRead:
    service.pause_campaign(session, campaign_id, actor=principal, clock=clock)
    return service.read_campaign(session, campaign_id)


@router.post("/{campaign_id}/resume", dependencies=WRITE, summary="Resume a paused campaign")
def post_resume(
    campaign_id: int, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> CampaignRead:
    service.resume_campaign(session, campaign_id, actor=principal, clock=clock)
    return service.read_campaign(session, campaign_id)


@router.post("/{campaign_id}/cancel", dependencies=WRITE, summary="Cancel a campaign")
def post_cancel(
    campaign_id: int, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> CampaignRead:
    service.cancel_campaign(session, campaign_id, actor=principal, clock=clock)
    return service.read_campaign(session, campaign_id)


@router.post(
    "/{campaign_id}/simulate",
    dependencies=READ,
    summary="Dry run: contacts per day, step and channel; cost; call-center load",
)
def post_simulate(
    campaign_id: int, session: SessionDep, clock: ClockDep, body: SimulateRequest | None = None
) -> SimulationRead:
    return simulate.simulate_campaign(session, campaign_id, body or SimulateRequest(), clock=clock)


@router.post(
    "/{campaign_id}/tasks",
    status_code=status.HTTP_201_CREATED,
    dependencies=WRITE,
    summary="Add a task to the campaign plan",
)
def post_task(
    campaign_id: int,
    body: TaskCreate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> TaskRead:
    task = tasks.create_task(session, campaign_id, body, actor=principal, clock=clock)
    return TaskRead.model_validate(task)


@router.get("/{campaign_id}/tasks", dependencies=READ, summary="List the campaign's tasks")
def get_tasks(campaign_id: int, session: SessionDep) -> list[TaskRead]:
    return [TaskRead.model_validate(t) for t in tasks.list_tasks(session, campaign_id)]


@router.patch("/{campaign_id}/tasks/{task_id}", dependencies=WRITE, summary="Update a plan task")
def patch_task(
    campaign_id: int,
    task_id: int,
    body: TaskUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> TaskRead:
    task = tasks.update_task(session, campaign_id, task_id, body, actor=principal, clock=clock)
    return TaskRead.model_validate(task)


@router.get(
    "/{campaign_id}/plan", dependencies=READ, summary="The task plan with its critical path"
)
def get_plan(campaign_id: int, session: SessionDep, clock: ClockDep) -> PlanRead:
    return tasks.campaign_plan(session, campaign_id, clock=clock)
