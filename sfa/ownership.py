"""Changing the owner of a synced record, and the log mobile sync reads.

Every service that moves a contact, opportunity or activity to another
owner goes through `change_owner`, so each move lands in
`sfa_owner_changes` exactly once (a no-op assignment logs nothing).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.auth import Principal
from sfa.models import Activity, Contact, OwnerChange
from sfa.pipeline_models import Opportunity

Owned = Contact | Opportunity | Activity

TRACKED: dict[str, type[Owned]] = {
    "contact": Contact,
    "opportunity": Opportunity,
    "activity": Activity,
}
"""The record types mobile sync hands out, by their name in the sync payload."""

_NAMES = {model: name for name, model in TRACKED.items()}


def change_owner(
    session: Session, record: Owned, owner_id: int | None, *, actor: Principal, now: datetime
) -> bool:
    """Give `record` to `owner_id`, logging the move; False when the owner is unchanged.

    The caller checks the assignment is allowed and bumps the record's
    `updated_at`/`version` (so the new owner's sync picks the record up).
    """
    if record.owner_id == owner_id:
        return False
    session.add(
        OwnerChange(
            record_type=_NAMES[type(record)],
            record_id=record.id,
            from_owner_id=record.owner_id,
            to_owner_id=owner_id,
            changed_at=now,
            changed_by=actor.user_id,
        )
    )
    record.owner_id = owner_id
    return True
