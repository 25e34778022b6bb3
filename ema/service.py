"""Campaign use cases: create and edit (journey validated), read with counts, lifecycle.

Launch enrols the audience in one `INSERT ... SELECT` (the segment as it is
at launch; a live audience also enrols newcomers on every tick). Pausing is a
status change the executor reads under a share lock, so no outbox row is
written for a paused campaign once the pause has committed, and the dispatch
claim passes over its pending rows until it resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, InvalidInput, NotFound
from ema import content
from ema.audience import enrol_audience
from ema.journey import DEFAULT_CHANNELS, TemplateCheck, parse_journey
from ema.models import (
    Campaign,
    CampaignStatus,
    CampaignTask,
    Enrolment,
    EnrolmentState,
    Segment,
    StepStat,
    TaskStatus,
)
from ema.outbox import OutboxMessage, OutboxState
from ema.policy import check_policy
from ema.schemas import (
    CampaignCreate,
    CampaignRead,
    CampaignUpdate,
    EnrolmentCounts,
    StepCounts,
)

FINAL = (CampaignStatus.COMPLETED.value, CampaignStatus.CANCELLED.value)
POLICY_FIELDS = ("fallback", "quiet_hours", "frequency_cap", "frequency_window_days")
"""Delivery policy fields (null: Campana's default)."""


def template_checker(session: Session) -> TemplateCheck:
    """Journey validation's check that a template exists and is for the channel."""

    def check(channel: str, template_id: Any) -> str | None:
        if channel == "phone":
            return None
        return content.check_template(session, channel, int(template_id))

    return check


def _validated_journey(
    session: Session, journey: dict[str, Any], channels: Collection[str]
) -> dict[str, Any]:
    parse_journey(journey, channels=channels, template_check=template_checker(session))
    return journey


def _check_costs(costs: dict[str, Any], channels: Collection[str]) -> dict[str, str]:
    for channel in costs:
        if channel not in channels and channel != "phone":
            raise InvalidInput(f"channel_costs.{channel}", f"channel {channel!r} is not available")
    return {k: str(v) for k, v in costs.items()}


def _check_segment(session: Session, segment_id: int) -> None:
    if session.get(Segment, segment_id) is None:
        raise InvalidInput("segment_id", f"no segment {segment_id}")


def create_campaign(
    session: Session,
    data: CampaignCreate,
    *,
    actor: Principal,
    clock: Clock,
    channels: Collection[str] = DEFAULT_CHANNELS,
) -> Campaign:
    """A draft campaign; its journey must validate (422 naming the step)."""
    _check_segment(session, data.segment_id)
    journey = _validated_journey(session, data.journey, channels)
    check_policy(data.model_dump(include=set(POLICY_FIELDS)), channels)
    now = clock.now()
    campaign = Campaign(
        name=data.name.strip(),
        objective=data.objective,
        segment_id=data.segment_id,
        status=CampaignStatus.DRAFT.value,
        audience=data.audience.value,
        budget=data.budget,
        channel_costs=_check_costs(data.channel_costs, channels),
        journey=journey,
        fallback=data.fallback,
        quiet_hours=data.quiet_hours,
        frequency_cap=data.frequency_cap,
        frequency_window_days=data.frequency_window_days,
        start_at=data.start_at,
        created_by=actor.key_name,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int, *, for_update: bool = False) -> Campaign:
    query = select(Campaign).where(Campaign.id == campaign_id)
    campaign = session.scalar(query.with_for_update() if for_update else query)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


def list_campaigns(session: Session, *, status: str | None = None) -> list[Campaign]:
    query = select(Campaign).order_by(Campaign.id)
    if status is not None:
        query = query.where(Campaign.status == status)
    return list(session.scalars(query))


def update_campaign(
    session: Session,
    campaign_id: int,
    data: CampaignUpdate,
    *,
    actor: Principal,
    clock: Clock,
    channels: Collection[str] = DEFAULT_CHANNELS,
) -> Campaign:
    """Edit a draft; a launched campaign's journey and audience are fixed."""
    del actor
    campaign = get_campaign(session, campaign_id, for_update=True)
    if campaign.status != CampaignStatus.DRAFT.value:
        raise Conflict(f"campaign is {campaign.status}: only drafts can be edited", field="status")
    changes = data.model_dump(exclude_unset=True)
    if changes.get("segment_id") is not None:
        _check_segment(session, changes["segment_id"])
    if changes.get("journey") is not None:
        _validated_journey(session, changes["journey"], channels)
    if changes.get("channel_costs") is not None:
        changes["channel_costs"] = _check_costs(changes["channel_costs"], channels)
    check_policy(changes, channels)
    nullable = ("objective", "budget", "start_at", *POLICY_FIELDS)
    for key, value in changes.items():
        if value is not None or key in nullable:
            setattr(campaign, key, str(value) if key == "audience" else value)
    campaign.updated_at = clock.now()
    return campaign


def open_blocking_tasks(session: Session, campaign_id: int) -> list[CampaignTask]:
    return list(
        session.scalars(
            select(CampaignTask).where(
                CampaignTask.campaign_id == campaign_id,
                CampaignTask.blocking.is_(True),
                CampaignTask.status == TaskStatus.OPEN.value,
            )
        )
    )


def launch_campaign(
    session: Session, campaign_id: int, *, actor: Principal, clock: Clock
) -> Campaign:
    """Enrol the audience and start (or schedule) the campaign; refused while blocked."""
    del actor
    campaign = get_campaign(session, campaign_id, for_update=True)
    if campaign.status != CampaignStatus.DRAFT.value:
        raise Conflict(f"campaign is {campaign.status}: only a draft can launch", field="status")
    blocking = open_blocking_tasks(session, campaign_id)
    if blocking:
        names = ", ".join(f"{t.id} {t.name!r}" for t in blocking)
        raise Conflict(f"blocking tasks are open: {names}", field="plan")
    now = clock.now()
    start = campaign.start_at if campaign.start_at and campaign.start_at > now else now
    session.add_all(
        StepStat(campaign_id=campaign.id, step_id=s["id"], done=0)
        for s in campaign.journey["steps"]
    )
    enrol_audience(
        session,
        campaign_id=campaign.id,
        segment_id=campaign.segment_id,
        start_step=campaign.journey["start"],
        at=start,
    )
    campaign.status = (
        CampaignStatus.RUNNING.value if start <= now else CampaignStatus.SCHEDULED.value
    )
    campaign.launched_at = now
    campaign.updated_at = now
    session.flush()
    return campaign


def _transition(
    session: Session,
    campaign_id: int,
    clock: Clock,
    allowed: tuple[str, ...],
    target: Callable[[Campaign], str],
) -> Campaign:
    campaign = get_campaign(session, campaign_id, for_update=True)
    if campaign.status not in allowed:
        raise Conflict(f"campaign is {campaign.status}", field="status")
    campaign.status = target(campaign)
    campaign.updated_at = clock.now()
    session.flush()
    return campaign


def pause_campaign(
    session: Session, campaign_id: int, *, actor: Principal, clock: Clock
) -> Campaign:
    """Stop writing outbox rows and hold the unsent ones (from the moment this commits).

    Dispatch passes over pending rows of a paused campaign: they go out after a resume."""
    del actor
    allowed = (CampaignStatus.RUNNING.value, CampaignStatus.SCHEDULED.value)
    return _transition(session, campaign_id, clock, allowed, lambda _: CampaignStatus.PAUSED.value)


def resume_campaign(
    session: Session, campaign_id: int, *, actor: Principal, clock: Clock
) -> Campaign:
    """Carry on where the campaign stopped: contacts due meanwhile move on the next tick."""
    del actor
    now = clock.now()

    def target(campaign: Campaign) -> str:
        if campaign.start_at is not None and campaign.start_at > now:
            return CampaignStatus.SCHEDULED.value
        return CampaignStatus.RUNNING.value

    return _transition(session, campaign_id, clock, (CampaignStatus.PAUSED.value,), target)


def cancel_campaign(
    session: Session, campaign_id: int, *, actor: Principal, clock: Clock
) -> Campaign:
    """End the campaign: active contacts exit and unsent outbox rows are skipped."""
    del actor
    allowed = tuple(s.value for s in CampaignStatus if s.value not in FINAL)
    campaign = _transition(
        session, campaign_id, clock, allowed, lambda _: CampaignStatus.CANCELLED.value
    )
    now = clock.now()
    session.execute(
        update(Enrolment)
        .where(Enrolment.campaign_id == campaign_id, Enrolment.state == EnrolmentState.ACTIVE.value)
        .values(state=EnrolmentState.EXITED.value, due_at=None, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.campaign_id == campaign_id,
            OutboxMessage.state == OutboxState.PENDING.value,
        )
        .values(state=OutboxState.SKIPPED.value, reason="campaign cancelled"),
        execution_options={"synchronize_session": False},
    )
    campaign.completed_at = now
    return campaign


def enrolment_counts(session: Session, campaign_id: int) -> EnrolmentCounts:
    rows = session.execute(
        select(Enrolment.state, func.count())
        .where(Enrolment.campaign_id == campaign_id)
        .group_by(Enrolment.state)
    ).all()
    by_state = {state: int(n) for state, n in rows}
    return EnrolmentCounts(enrolled=sum(by_state.values()), **by_state)


def step_counts(session: Session, campaign: Campaign) -> list[StepCounts]:
    """Per step: contacts at it now (waiting), carried out (done), and their sum (enrolled)."""
    waiting = dict(
        session.execute(
            select(Enrolment.step_id, func.count())
            .where(
                Enrolment.campaign_id == campaign.id,
                Enrolment.state == EnrolmentState.ACTIVE.value,
            )
            .group_by(Enrolment.step_id)
        ).all()
    )
    done = dict(
        session.execute(
            select(StepStat.step_id, StepStat.done).where(StepStat.campaign_id == campaign.id)
        ).all()
    )
    return [
        StepCounts(
            step_id=s["id"],
            type=s["type"],
            waiting=int(waiting.get(s["id"], 0)),
            done=int(done.get(s["id"], 0)),
            enrolled=int(waiting.get(s["id"], 0)) + int(done.get(s["id"], 0)),
        )
        for s in campaign.journey["steps"]
    ]


def read_campaign(session: Session, campaign_id: int) -> CampaignRead:
    """The campaign with its status, enrolment totals and per-step counts."""
    campaign = get_campaign(session, campaign_id)
    fields = {k: getattr(campaign, k) for k in CampaignRead.model_fields if hasattr(campaign, k)}
    return CampaignRead(
        **fields,
        counts=enrolment_counts(session, campaign.id),
        steps=step_counts(session, campaign),
    )
