"""Mobile sync: what changed since a cursor, for the caller's visible records.

The cursor is opaque to clients; inside it holds, per record type, the
(updated_at, id) of the last row handed out, so each call resumes exactly
where the previous one stopped. Deleted and merged records come back as
tombstones (`deleted`), so a phone can drop its copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.errors import InvalidInput
from core.pagination import decode_cursor, encode_cursor
from sfa.activities import ActivityRead
from sfa.models import Activity, Contact
from sfa.opportunities import read_model
from sfa.pipeline_models import Opportunity, Stage
from sfa.pipeline_schemas import OpportunityRead
from sfa.schemas import ContactRead
from sfa.visibility import owner_filter

TYPES = {"contact": Contact, "opportunity": Opportunity, "activity": Activity}


class Tombstone(BaseModel):
    type: str
    id: int
    deleted_at: datetime
    merged_into_id: int | None = None


class SyncPage(BaseModel):
    contacts: list[ContactRead] = Field(default_factory=list)
    opportunities: list[OpportunityRead] = Field(default_factory=list)
    activities: list[ActivityRead] = Field(default_factory=list)
    deleted: list[Tombstone] = Field(default_factory=list)
    cursor: str
    has_more: bool


def _positions(cursor: str | None) -> dict[str, tuple[datetime, int]]:
    raw = decode_cursor(cursor) or {}
    if not isinstance(raw, dict) or not set(raw) <= set(TYPES):
        raise InvalidInput("since", "malformed sync cursor")
    try:
        return {k: (datetime.fromisoformat(v[0]), int(v[1])) for k, v in raw.items()}
    except (AttributeError, TypeError, ValueError, IndexError):
        raise InvalidInput("since", "malformed sync cursor") from None


def _changed(
    session: Session, model: Any, actor: Principal, after: tuple[datetime, int] | None, limit: int
) -> list[Any]:
    query = select(model).where(owner_filter(actor, model.owner_id))
    if after is not None:
        at, last = after
        query = query.where(
            or_(model.updated_at > at, and_(model.updated_at == at, model.id > last))
        )
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
    page.cursor = encode_cursor({k: [at.isoformat(), i] for k, (at, i) in positions.items()})
    return page


def _place(page: SyncPage, name: str, row: Any, stages: dict[int, Stage]) -> None:
    gone = row.deleted_at or (row.updated_at if getattr(row, "merged_into_id", None) else None)
    if gone is not None:
        merged = getattr(row, "merged_into_id", None)
        page.deleted.append(Tombstone(type=name, id=row.id, deleted_at=gone, merged_into_id=merged))
    elif name == "contact":
        page.contacts.append(ContactRead.model_validate(row))
    elif name == "opportunity":
        page.opportunities.append(read_model(row, stages[row.stage_id]))
    else:
        page.activities.append(ActivityRead.model_validate(row))
