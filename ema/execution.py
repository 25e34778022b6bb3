"""The journey executor: claims due enrolments in batches and moves them on.

One batch is one transaction: claim up to `batch_size` due enrolments of a
running campaign (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one
writer), walk each through its instant steps in set-based waves (one query
per step and wave, never per contact), bulk-insert the outbox rows with a
conflict-ignoring insert on (campaign, step, contact), park contacts at their
next wait, and bump the step counters. A crash rolls the batch back whole; a
re-run can never write a step twice. The campaign row is read with a share
lock, so a pause commits either before a batch (which then writes nothing) or
after it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import JSONType, UTCDateTime, is_postgresql, session_scope
from ema.audience import enrol_audience, insert_ignore
from ema.journey import CONVERSION_KIND, load_journey
from ema.models import (
    Audience,
    Campaign,
    CampaignStatus,
    Enrolment,
    EnrolmentState,
    StepStat,
)
from ema.outbox import OutboxMessage, OutboxState
from ema.steps import (
    STEP_RUNNERS,
    Batch,
    Position,
    TaskCreator,
    place,
    wait_until,
    with_return,
)

BATCH_SIZE = 2000


def advance_campaign_batch(
    session: Session,
    campaign_id: int,
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    task_creator: TaskCreator | None = None,
) -> int:
    """Advance up to `batch_size` due enrolments of one campaign; returns how many."""
    campaign = session.execute(
        select(Campaign.status, Campaign.journey)
        .where(Campaign.id == campaign_id)
        .with_for_update(read=True)
    ).one_or_none()
    if campaign is None or campaign.status != CampaignStatus.RUNNING.value:
        return 0
    claimed = _claim(session, campaign_id, now, batch_size)
    if not claimed:
        return 0
    batch = Batch(campaign_id, load_journey(campaign.journey), now)
    first_wave = _exit_converted(session, batch, claimed)
    _walk(session, batch, first_wave)
    _write(session, batch, task_creator)
    return sum(len(v) for v in claimed.values())


def _claim(
    session: Session, campaign_id: int, now: datetime, batch_size: int
) -> dict[str, list[Position]]:
    rows = session.execute(
        select(Enrolment.id, Enrolment.contact_id, Enrolment.step_id, Enrolment.variant)
        .where(
            Enrolment.campaign_id == campaign_id,
            Enrolment.state == EnrolmentState.ACTIVE.value,
            Enrolment.due_at <= now,
        )
        .order_by(Enrolment.due_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    ).all()
    groups: dict[str, list[Position]] = defaultdict(list)
    for row in rows:
        groups[row.step_id].append(Position(row.id, row.contact_id, row.variant))
    return groups


def _exit_converted(
    session: Session, batch: Batch, groups: dict[str, list[Position]]
) -> dict[str, list[Position]]:
    """With a goal in the journey, contacts who converted leave at once."""
    goals = [s for s in batch.journey.steps.values() if s["type"] == "goal"]
    if not goals:
        return groups
    kind = goals[0].get("on", CONVERSION_KIND)
    everyone = [p for group in groups.values() for p in group]
    converted = with_return(session, batch, kind, everyone)
    for position in everyone:
        if position.contact_id in converted:
            place(batch, position, None, None, EnrolmentState.CONVERTED)
    return {
        step: [p for p in group if p.contact_id not in converted] for step, group in groups.items()
    }


def _walk(session: Session, batch: Batch, wave: dict[str, list[Position]]) -> None:
    """Execute due steps wave after wave until every contact rests at a wait or an end."""
    for _ in range(len(batch.journey.steps) + 2):
        following: dict[str, list[Position]] = defaultdict(list)
        for step_id, positions in wave.items():
            if not positions:
                continue
            step = batch.journey.step(step_id)
            batch.passed[step_id] += len(positions)
            for position, target in STEP_RUNNERS[step["type"]](session, batch, step, positions):
                _route(batch, position, target, following)
        if not following:
            return
        wave = following
    raise RuntimeError("journey walk did not settle: cycle without a wait")


def _route(
    batch: Batch, position: Position, target: str | None, following: dict[str, list[Position]]
) -> None:
    if target is None:
        place(batch, position, None, None, EnrolmentState.DONE)
        return
    step = batch.journey.step(target)
    if step["type"] == "wait":
        until = batch.wait_ends.get(target)
        if until is None:
            until = batch.wait_ends[target] = wait_until(step, batch.now)
        place(batch, position, target, until, EnrolmentState.ACTIVE)
    else:
        following[target].append(position)


# ---------------------------------------------------------------- writing


OUTBOX_COLUMNS = (
    "campaign_id",
    "step_id",
    "contact_id",
    "variant",
    "content",
    "state",
    "due_at",
    "attempts",
    "channel",
    "created_at",
)


def _insert_outbox(
    session: Session,
    batch: Batch,
    step_id: str,
    content: dict[str, Any],
    channel: str | None,
    ids: list[int],
) -> None:
    """One INSERT ... SELECT from the (already moved) enrolments; conflicts are ignored."""
    payload: Any = bindparam(None, content, type_=JSONType)
    if is_postgresql(session):
        payload = cast(payload, JSONType)
    stamp = literal(batch.now, UTCDateTime())
    source = select(
        literal(batch.campaign_id),
        literal(step_id),
        Enrolment.contact_id,
        Enrolment.variant,
        payload,
        literal(OutboxState.PENDING.value),
        stamp,
        literal(0),
        literal(channel, String()),
        stamp,
    ).where(Enrolment.id.in_(ids))
    statement = insert_ignore(session, OutboxMessage.__table__)  # type: ignore[arg-type]
    session.execute(statement.from_select(list(OUTBOX_COLUMNS), source))


def _write(session: Session, batch: Batch, task_creator: TaskCreator | None) -> None:
    for (step_id, due_at, state, variant), ids in batch.placements.items():
        session.execute(
            update(Enrolment)
            .where(Enrolment.id.in_(ids))
            .values(
                step_id=step_id, due_at=due_at, state=state, variant=variant, updated_at=batch.now
            ),
            execution_options={"synchronize_session": False},
        )
    for step_id, count in batch.passed.items():
        session.execute(
            update(StepStat)
            .where(StepStat.campaign_id == batch.campaign_id, StepStat.step_id == step_id)
            .values(done=StepStat.done + count),
            execution_options={"synchronize_session": False},
        )
    for step_id, content, channel, ids in batch.outbox:
        _insert_outbox(session, batch, step_id, content, channel, ids)
    if task_creator is not None:
        for step, contact_ids in batch.tasks:
            task_creator(session, contact_ids, step, batch.campaign_id, batch.now)


# ---------------------------------------------------------------- the tick


def start_due_campaigns(session: Session, now: datetime) -> list[int]:
    """Scheduled campaigns whose start time came: now running."""
    ids = list(
        session.scalars(
            select(Campaign.id).where(
                Campaign.status == CampaignStatus.SCHEDULED.value, Campaign.start_at <= now
            )
        )
    )
    if ids:
        session.execute(
            update(Campaign)
            .where(Campaign.id.in_(ids))
            .values(status=CampaignStatus.RUNNING.value, updated_at=now),
            execution_options={"synchronize_session": False},
        )
    return ids


def enrol_live_newcomers(session: Session, now: datetime) -> int:
    """Live-audience campaigns: enrol contacts who joined the segment since the last tick."""
    rows = session.execute(
        select(Campaign.id, Campaign.segment_id, Campaign.journey).where(
            Campaign.status == CampaignStatus.RUNNING.value,
            Campaign.audience == Audience.LIVE.value,
        )
    ).all()
    return sum(
        enrol_audience(
            session,
            campaign_id=r.id,
            segment_id=r.segment_id,
            start_step=r.journey["start"],
            at=now,
        )
        for r in rows
    )


def complete_finished(session: Session, now: datetime) -> None:
    """Snapshot campaigns with nobody left active are completed."""
    active = (
        select(Enrolment.id)
        .where(Enrolment.campaign_id == Campaign.id, Enrolment.state == EnrolmentState.ACTIVE.value)
        .exists()
    )
    session.execute(
        update(Campaign)
        .where(
            Campaign.status == CampaignStatus.RUNNING.value,
            Campaign.audience == Audience.SNAPSHOT.value,
            ~active,
        )
        .values(status=CampaignStatus.COMPLETED.value, completed_at=now, updated_at=now),
        execution_options={"synchronize_session": False},
    )


def advance_journeys(
    factory: sessionmaker[Session],
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    task_creator: TaskCreator | None = None,
) -> int:
    """One tick: start due campaigns, enrol live newcomers, advance every batch due."""
    with session_scope(factory) as session:
        start_due_campaigns(session, now)
        enrol_live_newcomers(session, now)
        running = list(
            session.scalars(
                select(Campaign.id).where(Campaign.status == CampaignStatus.RUNNING.value)
            )
        )
    handled = 0
    for campaign_id in running:
        while True:
            with session_scope(factory) as session:
                count = advance_campaign_batch(
                    session, campaign_id, now=now, batch_size=batch_size, task_creator=task_creator
                )
            handled += count
            if count < batch_size:
                break
    with session_scope(factory) as session:
        complete_finished(session, now)
    return handled
