"""EMA's scheduled jobs: advance journeys, notify owners of overdue plan tasks.

A journey's `task` step becomes one SFA task activity per contact, owned by
the contact's owner, created in the same transaction as the batch that
moves the contact on (so a restart never creates it twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.auth import SYSTEM
from core.clock import FrozenClock
from core.db import session_scope
from core.scheduler import JobContext, JobSpec
from ema.execution import advance_journeys
from ema.journey import parse_duration
from ema.tasks import notify_overdue_tasks
from sfa import activities


def create_sfa_tasks(
    session: Session,
    contact_ids: Sequence[int],
    step: dict[str, Any],
    campaign_id: int,
    now: datetime,
) -> None:
    """One SFA task per contact for the owner of the contact (a journey `task` step)."""
    delay = parse_duration(step.get("due_in", "")) if step.get("due_in") else None
    activities.create_tasks(
        session,
        contact_ids,
        str(step["subject"]),
        now + delay if delay else None,
        actor=SYSTEM,
        clock=FrozenClock(now),
        notes=step.get("notes"),
        origin=f"campaign:{campaign_id}:{step['id']}"[:50],
    )


def advance(ctx: JobContext) -> int:
    """Move every due enrolment of every running campaign on (batches, one transaction each)."""
    return advance_journeys(ctx.session_factory, now=ctx.clock.now(), task_creator=create_sfa_tasks)


def notify_overdue(ctx: JobContext) -> int:
    with session_scope(ctx.session_factory) as session:
        return notify_overdue_tasks(session, ctx.clock.now())


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="ema.advance_journeys",
        func=advance,
        every_seconds=5,
        description="claim due enrolments in batches, write outbox rows, move contacts on",
    ),
    JobSpec(
        id="ema.notify_overdue_tasks",
        func=notify_overdue,
        every_seconds=300,
        description="tell owners about campaign plan tasks past their due date",
    ),
)
