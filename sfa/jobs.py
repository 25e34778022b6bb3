"""Scheduled work of SFA: reactivation follow-ups for neglected leads and opportunities.

An open lead or opportunity with no activity for `REACTIVATION_DAYS` gets
one follow-up task for its owner. The job is idempotent: a record that
already has an open reactivation task gets no second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.db import session_scope
from core.scheduler import JobContext, JobSpec
from sfa.lead_models import Lead
from sfa.models import Activity
from sfa.pipeline_models import Opportunity, Stage
from sfa.timeline import add_timeline_entry

REACTIVATION_DAYS = 14
ORIGIN = "reactivation"


def create_reactivation_tasks(
    session: Session, *, clock: Clock, days: int = REACTIVATION_DAYS
) -> int:
    """Add a follow-up task to every neglected open lead and opportunity; returns how many."""
    now = clock.now()
    cutoff = now - timedelta(days=days)
    made = 0
    for kind, rows in (
        ("opportunity", _stale_opportunities(session, cutoff)),
        ("lead", _stale_leads(session, cutoff)),
    ):
        for record_id, contact_id, owner_id, name in rows:
            subject = f"Follow up: no activity for {days} days on {name}"
            session.add(
                Activity(
                    kind="task",
                    subject=subject[:300],
                    contact_id=contact_id,
                    opportunity_id=record_id if kind == "opportunity" else None,
                    lead_id=record_id if kind == "lead" else None,
                    owner_id=owner_id,
                    due_at=now + timedelta(days=1),
                    origin=ORIGIN,
                    created_at=now,
                    updated_at=now,
                )
            )
            if contact_id is not None:
                add_timeline_entry(
                    session, contact_id, "activity.task", subject, module="sfa", occurred_at=now
                )
            made += 1
    session.flush()
    return made


def _stale_opportunities(
    session: Session, cutoff: datetime
) -> list[tuple[int, int | None, int | None, str]]:
    recent = select(Activity.id).where(
        Activity.opportunity_id == Opportunity.id,
        or_(
            Activity.created_at >= cutoff,
            and_(Activity.origin == ORIGIN, Activity.done_at.is_(None)),
        ),
    )
    query = (
        select(Opportunity.id, Opportunity.contact_id, Opportunity.owner_id, Opportunity.name)
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(
            Stage.kind == "open",
            Opportunity.deleted_at.is_(None),
            Opportunity.stage_entered_at < cutoff,
            Opportunity.created_at < cutoff,
            ~recent.exists(),
        )
    )
    return [(i, c, o, f"opportunity {n!r}") for i, c, o, n in session.execute(query)]


def _stale_leads(
    session: Session, cutoff: datetime
) -> list[tuple[int, int | None, int | None, str]]:
    recent = select(Activity.id).where(
        or_(Activity.lead_id == Lead.id, Activity.contact_id == Lead.contact_id),
        or_(
            Activity.created_at >= cutoff,
            and_(Activity.origin == ORIGIN, Activity.done_at.is_(None)),
        ),
    )
    query = select(Lead.id, Lead.contact_id, Lead.owner_id, Lead.source).where(
        Lead.status == "open", Lead.created_at < cutoff, ~recent.exists()
    )
    return [(i, c, o, f"lead from {s}") for i, c, o, s in session.execute(query)]


def run_reactivation(ctx: JobContext) -> int:
    with session_scope(ctx.session_factory) as session:
        return create_reactivation_tasks(session, clock=ctx.clock)


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="sfa.create_reactivation_tasks",
        func=run_reactivation,
        every_seconds=3600,
        description="Follow-up tasks for leads and opportunities with no recent activity",
    ),
)
