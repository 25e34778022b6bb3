"""EMA's reactions to SFA events (subscribed in api/wiring.py).

- `contact.merged`: enrolments, static list memberships, outbox rows and
  returns of the merged-away contact move to the survivor, set-based. Where
  the survivor already has the same row (same campaign, or campaign and step),
  the loser's duplicate is dropped (enrolments, memberships) or, when still
  pending, skipped (outbox), so nobody is messaged twice.
- `opportunity.won`: a conversion, recorded once per opportunity as a
  `converted` return (`detail.source` = "opportunity.won") for the
  opportunity's source campaign.
- `campaign_task.overdue` (EMA's own): the task's owner gets an SFA task
  activity (their to-do list, `GET /api/v1/activities?open_only=true`), one
  open notice per plan task: a second tick finds it and adds nothing.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.orm import Session, aliased

from core.clock import clock_of
from ema.events import CampaignTaskOverdue
from ema.journey import CONVERSION_KIND
from ema.models import Campaign, Enrolment, StaticListMember
from ema.outbox import OutboxMessage, OutboxState
from ema.returns import Return
from sfa.events import ContactMerged, OpportunityWon
from sfa.models import Activity

CONVERSION = CONVERSION_KIND
NO_SYNC = {"synchronize_session": False}


def on_contact_merged(session: Session, event: ContactMerged) -> None:
    """Re-point the loser's EMA rows to the survivor (duplicates dropped or skipped)."""
    loser, survivor = event.loser_id, event.survivor_id
    _move_enrolments(session, loser, survivor)
    _move_members(session, loser, survivor)
    _move_outbox(session, loser, survivor)
    session.execute(
        update(Return).where(Return.contact_id == loser).values(contact_id=survivor),
        execution_options=NO_SYNC,
    )


def _move_enrolments(session: Session, loser: int, survivor: int) -> None:
    theirs = select(Enrolment.campaign_id).where(Enrolment.contact_id == survivor)
    session.execute(
        delete(Enrolment).where(Enrolment.contact_id == loser, Enrolment.campaign_id.in_(theirs)),
        execution_options=NO_SYNC,
    )
    session.execute(
        update(Enrolment).where(Enrolment.contact_id == loser).values(contact_id=survivor),
        execution_options=NO_SYNC,
    )


def _move_members(session: Session, loser: int, survivor: int) -> None:
    theirs = select(StaticListMember.segment_id).where(StaticListMember.contact_id == survivor)
    session.execute(
        delete(StaticListMember).where(
            StaticListMember.contact_id == loser, StaticListMember.segment_id.in_(theirs)
        ),
        execution_options=NO_SYNC,
    )
    session.execute(
        update(StaticListMember)
        .where(StaticListMember.contact_id == loser)
        .values(contact_id=survivor),
        execution_options=NO_SYNC,
    )


def _move_outbox(session: Session, loser: int, survivor: int) -> None:
    other = aliased(OutboxMessage)
    duplicate = exists().where(
        and_(
            other.contact_id == survivor,
            other.campaign_id == OutboxMessage.campaign_id,
            other.step_id == OutboxMessage.step_id,
        )
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.contact_id == loser, ~duplicate)
        .values(contact_id=survivor),
        execution_options=NO_SYNC,
    )
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.contact_id == loser,
            OutboxMessage.state == OutboxState.PENDING.value,
        )
        .values(state=OutboxState.SKIPPED.value, reason=f"contact merged into {survivor}"),
        execution_options=NO_SYNC,
    )


def on_opportunity_won(session: Session, event: OpportunityWon) -> None:
    """Record the conversion for the source campaign (once per opportunity)."""
    if event.source_campaign_id is None or event.contact_id is None:
        return
    already = session.scalar(
        select(Return.id).where(
            Return.kind == CONVERSION,
            Return.campaign_id == event.source_campaign_id,
            Return.contact_id == event.contact_id,
            Return.detail["opportunity_id"].as_integer() == event.opportunity_id,
        )
    )
    if already is not None:
        return
    variant = session.scalar(
        select(Enrolment.variant).where(
            Enrolment.campaign_id == event.source_campaign_id,
            Enrolment.contact_id == event.contact_id,
        )
    )
    clock = clock_of(session)
    session.add(
        Return(
            contact_id=event.contact_id,
            campaign_id=event.source_campaign_id,
            variant=variant,
            kind=CONVERSION,
            occurred_at=clock.now(),
            is_machine=False,
            detail={
                "source": "opportunity.won",
                "opportunity_id": event.opportunity_id,
                "amount_minor": event.amount_minor,
                "currency": event.currency,
            },
        )
    )
    session.flush()


def overdue_origin(task_id: int) -> str:
    """The `origin` of the SFA activity telling a plan task's owner it is overdue."""
    return f"campaign_task:{task_id}"


def on_campaign_task_overdue(session: Session, event: CampaignTaskOverdue) -> None:
    """An SFA task for the owner of the overdue plan task (none while one is still open)."""
    if event.owner_id is None:
        return
    origin = overdue_origin(event.task_id)
    already = session.scalar(
        select(Activity.id).where(
            Activity.origin == origin,
            Activity.owner_id == event.owner_id,
            Activity.done_at.is_(None),
            Activity.deleted_at.is_(None),
        )
    )
    if already is not None:
        return
    campaign = session.get(Campaign, event.campaign_id)
    where = f"campaign {campaign.name!r}" if campaign is not None else "a campaign"
    now = clock_of(session).now()
    session.add(
        Activity(
            kind="task",
            subject=f"Overdue: {event.title} ({where})"[:300],
            notes=f"Plan task {event.task_id} was due {event.due_at.isoformat()}.",
            owner_id=event.owner_id,
            due_at=event.due_at,
            remind_at=now,
            origin=origin,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
