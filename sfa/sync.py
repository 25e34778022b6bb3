"""Mobile sync: what changed since a cursor, for the caller's visible records.

The cursor is opaque to clients; inside it holds, per record type, the
(updated_at, id) of the last row handed out, so each call resumes exactly
where the previous one stopped. Deleted and merged records come back as
tombstones (`deleted`), so a phone can drop its copy.

A record the caller stops seeing because it was given to an owner outside
the caller's visibility also comes back as a tombstone (reason
`reassigned`): the cursor's `reassigned` key is the (changed_at, id) of the
last `sfa_owner_changes` row read. A cursor from before that key existed
resumes the owner changes from its oldest record position (every change the
phone may have missed, and perhaps a few it did not need).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Row, and_, case, or_, select
from sqlalchemy.orm import Session

from core.auth import Principal, Role
from core.errors import InvalidInput
from core.pagination import decode_cursor, encode_cursor
from sfa.activities import ActivityRead
from sfa.models import Activity, Contact, OwnerChange
from sfa.opportunities import read_model
from sfa.ownership import TRACKED
from sfa.pipeline_models import Opportunity, Stage
from sfa.pipeline_schemas import OpportunityRead
from sfa.schemas import ContactRead
from sfa.visibility import hidden_filter, owner_filter, subtree_ids

TYPES = TRACKED
REASSIGNED = "reassigned"
"""The cursor key of the owner-change stream."""

Position = tuple[datetime, int]
Reason = Literal["deleted", "merged", "reassigned"]


class Tombstone(BaseModel):
    type: str
    id: int
    deleted_at: datetime
    merged_into_id: int | None = None
    reason: Reason = "deleted"


class SyncPage(BaseModel):
    contacts: list[ContactRead] = Field(default_factory=list)
    opportunities: list[OpportunityRead] = Field(default_factory=list)
    activities: list[ActivityRead] = Field(default_factory=list)
    deleted: list[Tombstone] = Field(default_factory=list)
    cursor: str
    has_more: bool


def _positions(cursor: str | None) -> dict[str, Position]:
    raw = decode_cursor(cursor) or {}
    if not isinstance(raw, dict) or not set(raw) <= {*TYPES, REASSIGNED}:
        raise InvalidInput("since", "malformed sync cursor")
    try:
        positions = {k: (datetime.fromisoformat(v[0]), int(v[1])) for k, v in raw.items()}
    except (AttributeError, TypeError, ValueError, IndexError, KeyError):
        raise InvalidInput("since", "malformed sync cursor") from None
    if any(at.tzinfo is None for at, _ in positions.values()):
        raise InvalidInput("since", "malformed sync cursor")
    return positions


def _after(query: Any, model: Any, stamp: Any, after: Position | None) -> Any:
    if after is None:
        return query
    at, last = after
    return query.where(or_(stamp > at, and_(stamp == at, model.id > last)))


def _changed(
    session: Session, model: Any, actor: Principal, after: Position | None, limit: int
) -> list[Any]:
    query = select(model).where(owner_filter(actor, model.owner_id))
    query = _after(query, model, model.updated_at, after)
    return list(session.scalars(query.order_by(model.updated_at, model.id).limit(limit + 1)))


def sync(session: Session, since: str | None, *, actor: Principal, limit: int = 200) -> SyncPage:
    """Up to `limit` changed records of each type after `since` (None: everything)."""
    positions = _positions(since)
    page = SyncPage(cursor="", has_more=False)
    stages = {s.id: s for s in session.scalars(select(Stage))}
    for name, model in TYPES.items():
        rows = _changed(session, model, actor, positions.get(name), limit)
        page.has_more = page.has_more or len(rows) > limit
        rows = rows[:limit]
        if rows:
            positions[name] = (rows[-1].updated_at, rows[-1].id)
        for row in rows:
            _place(page, name, row, stages)
    _add_reassigned(session, page, positions, actor=actor, initial=since is None, limit=limit)
    page.cursor = encode_cursor({k: [at.isoformat(), i] for k, (at, i) in positions.items()})
    return page


def _place(page: SyncPage, name: str, row: Any, stages: dict[int, Stage]) -> None:
    gone = row.deleted_at or (row.updated_at if getattr(row, "merged_into_id", None) else None)
    if gone is not None:
        merged = getattr(row, "merged_into_id", None)
        reason: Reason = "merged" if merged is not None else "deleted"
        page.deleted.append(
            Tombstone(type=name, id=row.id, deleted_at=gone, merged_into_id=merged, reason=reason)
        )
    elif name == "contact":
        page.contacts.append(ContactRead.model_validate(row))
    elif name == "opportunity":
        page.opportunities.append(read_model(row, stages[row.stage_id]))
    else:
        page.activities.append(ActivityRead.model_validate(row))


def _add_reassigned(
    session: Session,
    page: SyncPage,
    positions: dict[str, Position],
    *,
    actor: Principal,
    initial: bool,
    limit: int,
) -> None:
    """Tombstones for records given away from the caller's sight; moves the cursor on."""
    if initial:  # a phone with nothing to drop: start the stream at its end
        last = session.execute(
            select(OwnerChange.changed_at, OwnerChange.id)
            .order_by(OwnerChange.changed_at.desc(), OwnerChange.id.desc())
            .limit(1)
        ).first()
        if last is not None:
            positions[REASSIGNED] = (last[0], last[1])
        return
    rows = _reassignments(session, actor, _resume_at(positions), limit)
    page.has_more = page.has_more or len(rows) > limit
    rows = rows[:limit]
    if rows:
        positions[REASSIGNED] = (rows[-1].changed_at, rows[-1].id)
    seen = {(t.type, t.id) for t in page.deleted}
    for row in rows:
        if (row.record_type, row.record_id) not in seen:
            seen.add((row.record_type, row.record_id))
            page.deleted.append(
                Tombstone(
                    type=row.record_type,
                    id=row.record_id,
                    deleted_at=row.changed_at,
                    reason="reassigned",
                )
            )


def _resume_at(positions: dict[str, Position]) -> Position | None:
    """Where the owner-change stream resumes; an old cursor starts at its oldest position."""
    if REASSIGNED in positions:
        return positions[REASSIGNED]
    if not positions:
        return None
    return (min(at for at, _ in positions.values()), 0)


def _reassignments(
    session: Session, actor: Principal, after: Position | None, limit: int
) -> list[Row[Any]]:
    """Owner changes after `after` that took a record from the caller's sight to outside it.

    The record's current owner must be hidden too: a record that came back
    reaches the phone through the record streams instead.
    """
    current = case(
        (OwnerChange.record_type == "contact", Contact.owner_id),
        (OwnerChange.record_type == "opportunity", Opportunity.owner_id),
        else_=Activity.owner_id,
    )
    query = select(
        OwnerChange.id, OwnerChange.record_type, OwnerChange.record_id, OwnerChange.changed_at
    )
    for name, model in TYPES.items():
        query = query.outerjoin(
            model, and_(OwnerChange.record_type == name, model.id == OwnerChange.record_id)
        )
    tree = None
    if actor.role is Role.MANAGER and actor.user_id is not None:
        tree = subtree_ids(actor.user_id)  # one CTE shared by the three owner conditions
    query = query.where(
        owner_filter(actor, OwnerChange.from_owner_id, tree=tree),
        hidden_filter(actor, OwnerChange.to_owner_id, tree=tree),
        hidden_filter(actor, current, tree=tree),
    )
    query = _after(query, OwnerChange, OwnerChange.changed_at, after)
    query = query.order_by(OwnerChange.changed_at, OwnerChange.id).limit(limit + 1)
    return list(session.execute(query))
