"""Merging duplicate contacts: everything moves to the survivor, the loser stays as history.

The loser keeps its row (with `merged_into_id`), timeline entries remember
where they came from (`original_contact_id`), and `contact.merged` tells
higher modules (ema's outbox and returns) to re-point their own rows.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, select, update
from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, InvalidInput
from core.events import publish
from sfa.events import ContactMerged
from sfa.lead_models import Lead
from sfa.models import Activity, Consent, Contact, TimelineEntry
from sfa.ownership import change_owner
from sfa.pipeline_models import Opportunity, Proposal
from sfa.service import get_contact
from sfa.timeline import add_timeline_entry

FILLABLE = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "language",
    "preferred_channel",
    "job_title",
    "postal_address",
    "account_id",
)


def merge_contacts(
    session: Session, survivor_id: int, duplicate_id: int, *, actor: Principal, clock: Clock
) -> Contact:
    """Fold `duplicate_id` into `survivor_id`; both must be live and visible to the caller."""
    if survivor_id == duplicate_id:
        raise InvalidInput("duplicate_id", "a contact cannot be merged into itself")
    survivor = get_contact(session, survivor_id, actor=actor)
    loser = get_contact(session, duplicate_id, actor=actor)
    for who, contact in (("id", survivor), ("duplicate_id", loser)):
        if contact.merged_into_id is not None or contact.deleted_at is not None:
            raise Conflict(f"contact {contact.id} is already merged or deleted", field=who)
    now = clock.now()
    loser.merged_into_id, loser.updated_at, loser.version = survivor.id, now, loser.version + 1
    session.flush()  # the loser leaves the live unique indexes before its email moves
    _move_rows(session, survivor.id, loser.id)
    _merge_consents(session, survivor.id, loser.id)
    for name in FILLABLE:
        if getattr(survivor, name) is None and getattr(loser, name) is not None:
            setattr(survivor, name, getattr(loser, name))
    if survivor.owner_id is None and loser.owner_id is not None:
        change_owner(session, survivor, loser.owner_id, actor=actor, now=now)
    survivor.attributes = {**loser.attributes, **survivor.attributes}
    survivor.updated_at, survivor.version = now, survivor.version + 1
    add_timeline_entry(
        session,
        survivor.id,
        "contact.merged",
        f"Contact {loser.id} merged into this one",
        module="sfa",
        ref=f"contact:{loser.id}",
        occurred_at=now,
    )
    publish(session, ContactMerged(survivor_id=survivor.id, loser_id=loser.id))
    return survivor


def _move_rows(session: Session, survivor_id: int, loser_id: int) -> None:
    for model in (Lead, Opportunity, Activity, Proposal):
        session.execute(
            update(model).where(model.contact_id == loser_id).values(contact_id=survivor_id)
        )
    session.execute(
        update(TimelineEntry)
        .where(TimelineEntry.contact_id == loser_id, TimelineEntry.original_contact_id.is_(None))
        .values(original_contact_id=loser_id)
    )
    session.execute(
        update(TimelineEntry)
        .where(TimelineEntry.contact_id == loser_id)
        .values(contact_id=survivor_id)
    )
    session.execute(
        update(Contact).where(Contact.merged_into_id == loser_id).values(merged_into_id=survivor_id)
    )


def _merge_consents(session: Session, survivor_id: int, loser_id: int) -> None:
    """Per channel the most recently recorded consent wins."""
    mine = {
        c.channel: c
        for c in session.scalars(select(Consent).where(Consent.contact_id == survivor_id))
    }
    for theirs in session.scalars(select(Consent).where(Consent.contact_id == loser_id)):
        kept = mine.get(theirs.channel)
        if kept is not None and kept.recorded_at < theirs.recorded_at:
            kept.granted, kept.source = theirs.granted, theirs.source
            kept.recorded_at = theirs.recorded_at
    session.execute(
        delete(Consent).where(and_(Consent.contact_id == loser_id, Consent.channel.in_(list(mine))))
    )
    session.execute(
        update(Consent).where(Consent.contact_id == loser_id).values(contact_id=survivor_id)
    )
