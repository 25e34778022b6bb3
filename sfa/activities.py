"""Activities: calls, meetings, emails, notes and tasks with due dates and reminders.

`create_activity` is the entry point other modules use (the call center);
they pass `actor=SYSTEM`. `create_tasks` plans one task per contact in a
constant number of statements (ema's journey `task` step).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import Clock
from core.errors import InvalidInput, NotFound
from core.pagination import PageParams, decode_cursor
from sfa.lead_models import Lead
from sfa.models import Activity, Contact, TimelineEntry
from sfa.pipeline_models import Opportunity
from sfa.timeline import add_timeline_entry
from sfa.visibility import check_owner, owner_filter


class ActivityKind(StrEnum):
    CALL = "call"
    MEETING = "meeting"
    EMAIL = "email"
    NOTE = "note"
    TASK = "task"


class ActivityCreate(BaseModel):
    kind: ActivityKind
    subject: str = Field(min_length=1, max_length=300)
    notes: str | None = Field(default=None, max_length=4000)
    contact_id: int | None = None
    lead_id: int | None = None
    opportunity_id: int | None = None
    owner_id: int | None = None
    due_at: datetime | None = None
    remind_at: datetime | None = None
    done: bool = False
    origin: str | None = Field(default=None, max_length=50)


class ActivityUpdate(BaseModel):
    subject: str | None = Field(default=None, min_length=1, max_length=300)
    notes: str | None = Field(default=None, max_length=4000)
    due_at: datetime | None = None
    remind_at: datetime | None = None
    done: bool | None = None


class ActivityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    subject: str
    notes: str | None
    contact_id: int | None
    lead_id: int | None
    opportunity_id: int | None
    owner_id: int | None
    due_at: datetime | None
    remind_at: datetime | None
    done_at: datetime | None
    origin: str | None
    created_at: datetime
    updated_at: datetime
    version: int


def _linked(
    session: Session, data: ActivityCreate, actor: Principal
) -> tuple[int | None, int | None]:
    """The contact and default owner of what the activity is about (visible to the caller)."""
    contact_id, owner = data.contact_id, None
    links: tuple[tuple[Any, int | None, str], ...] = (
        (Opportunity, data.opportunity_id, "opportunity_id"),
        (Lead, data.lead_id, "lead_id"),
        (Contact, data.contact_id, "contact_id"),
    )
    for model, ident, field in links:
        if ident is None:
            continue
        row = session.scalar(
            select(model).where(model.id == ident, owner_filter(actor, model.owner_id))
        )
        if row is None:
            raise InvalidInput(field, f"no {field.removesuffix('_id')} {ident}")
        owner = owner if owner is not None else row.owner_id
        if model is not Contact and contact_id is None:
            contact_id = row.contact_id
    return contact_id, owner


def create_activity(
    session: Session, data: ActivityCreate, *, actor: Principal, clock: Clock
) -> Activity:
    """Log an activity (or plan a task) on a contact, lead or opportunity."""
    contact_id, record_owner = _linked(session, data, actor)
    if contact_id is None and data.opportunity_id is None:
        raise InvalidInput("contact_id", "an activity needs a contact, lead or opportunity")
    owner = data.owner_id or actor.user_id or record_owner
    check_owner(session, actor, owner)
    now = clock.now()
    activity = Activity(
        **data.model_dump(exclude={"done", "contact_id", "owner_id"}),
        contact_id=contact_id,
        owner_id=owner,
        done_at=now if data.done or data.kind is not ActivityKind.TASK else None,
        created_at=now,
        updated_at=now,
    )
    session.add(activity)
    session.flush()
    if contact_id is None:
        return activity
    add_timeline_entry(
        session,
        contact_id,
        f"activity.{data.kind.value}",
        data.subject,
        module="sfa",
        ref=f"activity:{activity.id}",
        occurred_at=now,
    )
    return activity


def create_tasks(
    session: Session,
    contact_ids: Sequence[int],
    subject: str,
    due_at: datetime | None,
    *,
    actor: Principal,
    clock: Clock,
    notes: str | None = None,
    origin: str | None = None,
) -> list[int]:
    """Plan one open task per contact, owned by the contact's owner; returns the activity ids.

    What `create_activity` guarantees, in three statements whatever the count:
    the contacts must be visible to `actor`, `actor` may assign to each owner,
    and each task gets its `activity.task` timeline entry.
    """
    ids = list(dict.fromkeys(contact_ids))
    if not ids:
        return []
    found = session.execute(
        select(Contact.id, Contact.owner_id).where(
            Contact.id.in_(ids), owner_filter(actor, Contact.owner_id)
        )
    )
    owners: dict[int, int | None] = dict(found.all())
    missing = [cid for cid in ids if cid not in owners]
    if missing:
        raise InvalidInput("contact_ids", f"no contact {missing[0]}")
    for owner in {actor.user_id or o for o in owners.values()}:
        check_owner(session, actor, owner)
    now, subject = clock.now(), subject[:300]
    rows = [
        {
            "kind": ActivityKind.TASK.value,
            "subject": subject,
            "notes": notes[:4000] if notes else notes,
            "contact_id": cid,
            "owner_id": actor.user_id or owners[cid],
            "due_at": due_at,
            "origin": origin,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for cid in ids
    ]
    # Contacts are distinct: the contact id maps each returned row to its task
    # (`sort_by_parameter_order` would make SQLite insert row by row).
    made = session.execute(insert(Activity).returning(Activity.contact_id, Activity.id), rows)
    activity_of = {cid: aid for cid, aid in made if cid is not None}
    entries = [
        {
            "contact_id": cid,
            "occurred_at": now,
            "kind": f"activity.{ActivityKind.TASK.value}",
            "summary": subject[:500],
            "module": "sfa",
            "ref": f"activity:{activity_of[cid]}",
        }
        for cid in ids
    ]
    session.execute(insert(TimelineEntry), entries)
    return [activity_of[cid] for cid in ids]


def get_activity(session: Session, activity_id: int, *, actor: Principal) -> Activity:
    row = session.scalar(
        select(Activity).where(
            Activity.id == activity_id,
            Activity.deleted_at.is_(None),
            owner_filter(actor, Activity.owner_id),
        )
    )
    if row is None:
        raise NotFound("activity", activity_id)
    return row


def update_activity(
    session: Session, activity_id: int, data: ActivityUpdate, *, actor: Principal, clock: Clock
) -> Activity:
    """Edit an activity; `done: true` completes a task, `done: false` reopens it."""
    activity = get_activity(session, activity_id, actor=actor)
    now = clock.now()
    sent = data.model_dump(exclude_unset=True)
    done = sent.pop("done", None)
    for name, value in sent.items():
        setattr(activity, name, value)
    if done is not None:
        activity.done_at = now if done else None
    activity.updated_at, activity.version = now, activity.version + 1
    return activity


def list_activities(
    session: Session,
    page: PageParams,
    *,
    actor: Principal,
    contact_id: int | None = None,
    opportunity_id: int | None = None,
    open_only: bool = False,
    due_before: datetime | None = None,
) -> list[Activity]:
    """Activities the caller may see; `due_before` lists open tasks due or to remind by then."""
    query = select(Activity).where(
        Activity.deleted_at.is_(None), owner_filter(actor, Activity.owner_id)
    )
    if contact_id is not None:
        query = query.where(Activity.contact_id == contact_id)
    if opportunity_id is not None:
        query = query.where(Activity.opportunity_id == opportunity_id)
    if open_only or due_before is not None:
        query = query.where(Activity.done_at.is_(None))
    if due_before is not None:
        query = query.where(or_(Activity.due_at <= due_before, Activity.remind_at <= due_before))
    after = decode_cursor(page.cursor)
    if after is not None:
        query = query.where(Activity.id > int(after))
    return list(session.scalars(query.order_by(Activity.id).limit(page.limit)))
