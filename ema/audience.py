"""A campaign's audience: the segment's condition, and enrolling it in one statement.

Enrolment is `INSERT ... SELECT` from `sfa_contacts` with a conflict-ignoring
insert on (campaign, contact): a snapshot at launch, or again on every tick
for a live audience. A NOT EXISTS anti-join keeps members already enrolled
out of the SELECT, so a tick touches only newcomers; the conflict clause
still guards against two ticks racing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, exists, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.db import UTCDateTime, is_postgresql
from core.errors import NotFound
from ema.models import Enrolment, EnrolmentState, Segment, SegmentKind
from ema.segments import RuleContext, segment_condition, static_condition
from sfa.models import Contact


def insert_ignore(session: Session, table: Table) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` in the session's dialect."""
    dialect = postgresql if is_postgresql(session) else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def audience_condition(session: Session, segment_id: int, now: datetime) -> ColumnElement[bool]:
    """The live contacts of segment `segment_id` as a WHERE condition."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound("segment", segment_id)
    if segment.kind == SegmentKind.STATIC.value or segment.rules is None:
        return static_condition(segment.id)
    return segment_condition(segment.rules, RuleContext(now=now))


def enrol_audience(
    session: Session, *, campaign_id: int, segment_id: int, start_step: str, at: datetime
) -> int:
    """Enrol every not-yet-enrolled live member of the segment; returns rows inserted."""
    condition = audience_condition(session, segment_id, at)
    table = Enrolment.__table__
    enrolled = table.alias("enrolled")
    newcomer = ~exists().where(
        enrolled.c.campaign_id == campaign_id, enrolled.c.contact_id == Contact.id
    ).correlate(Contact)
    stamp = literal(at, UTCDateTime())
    source = select(
        literal(campaign_id),
        Contact.id,
        literal(start_step),
        stamp,
        literal(EnrolmentState.ACTIVE.value),
        stamp,
        stamp,
    ).where(condition, newcomer)
    columns = ["campaign_id", "contact_id", "step_id", "due_at", "state", "enrolled_at"]
    statement = insert_ignore(session, table)  # type: ignore[arg-type]
    statement = statement.from_select([*columns, "updated_at"], source)
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
