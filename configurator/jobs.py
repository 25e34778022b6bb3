"""Scheduled work of the configurator: marking idle configurations as abandoned."""

from __future__ import annotations

from datetime import timedelta

from configurator.service import mark_abandoned
from core.db import session_scope
from core.scheduler import JobContext, JobSpec

ABANDON_AFTER = timedelta(hours=24)
"""An open configuration without activity for this long is abandoned (campaigns target it)."""


def mark_abandoned_job(ctx: JobContext) -> int:
    """One transaction: mark idle open configurations abandoned, one event each."""
    with session_scope(ctx.session_factory) as session:
        return mark_abandoned(session, idle=ABANDON_AFTER, clock=ctx.clock)


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="configurator.mark_abandoned",
        func=mark_abandoned_job,
        every_seconds=900,
        description="Mark open configurations idle for 24 hours as abandoned",
    ),
)
