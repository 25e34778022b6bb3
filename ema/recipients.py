"""Bulk loading for dispatch: contacts, consents, suppressions, recent sends, policies.

One query per kind for a whole claimed batch (no N+1), turned into the
`Recipient` and `Policy` values the pure channel choice works on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from channels.choice import Policy, Recipient
from channels.models import Suppression, normalise_address
from ema.models import Campaign
from ema.outbox import OutboxMessage, OutboxState
from ema.policy import DEFAULT_POLICY, build_policy
from sfa.models import Consent, Contact

CONTACT_COLUMNS = (
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "language",
    "job_title",
    "time_zone",
    "attributes",
    "postal_address",
    "preferred_channel",
    "deleted_at",
    "merged_into_id",
)
"""What dispatch reads of a contact (plain rows: no ORM objects per message)."""


def load_recipients(
    session: Session, contact_ids: Iterable[int], window_start: datetime
) -> tuple[dict[int, Recipient], dict[int, Any]]:
    """Recipients and the contact rows (for rendering), keyed by contact id."""
    ids = sorted(set(contact_ids))
    columns = [getattr(Contact, name) for name in CONTACT_COLUMNS]
    contacts = {c.id: c for c in session.execute(select(*columns).where(Contact.id.in_(ids))).all()}
    consents: dict[int, dict[str, bool]] = defaultdict(dict)
    for contact_id, channel, granted in session.execute(
        select(Consent.contact_id, Consent.channel, Consent.granted).where(
            Consent.contact_id.in_(ids)
        )
    ):
        consents[contact_id][channel] = granted
    suppressed = _suppressed(session, contacts.values())
    recent = recent_sends(session, ids, window_start)
    recipients = {
        c.id: Recipient(
            contact_id=c.id,
            email=c.email,
            phone=c.phone,
            postal_address=c.postal_address,
            time_zone=c.time_zone or "UTC",
            preferred_channel=c.preferred_channel,
            consents=consents.get(c.id, {}),
            suppressed=suppressed.get(c.id, frozenset()),
            recent_sends=recent.get(c.id, 0),
            live=c.deleted_at is None and c.merged_into_id is None,
        )
        for c in contacts.values()
    }
    return recipients, contacts


def _suppressed(session: Session, contacts: Iterable[Any]) -> dict[int, frozenset[str]]:
    keys: dict[tuple[str, str], list[int]] = defaultdict(list)
    for contact in contacts:
        if contact.email:
            keys["email", normalise_address("email", contact.email)].append(contact.id)
        if contact.phone:
            for channel in ("sms", "phone"):
                keys[channel, normalise_address(channel, contact.phone)].append(contact.id)
    if not keys:
        return {}
    found: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(Suppression.channel, Suppression.address).where(
            tuple_(Suppression.channel, Suppression.address).in_(list(keys))
        )
    )
    for channel, address in rows:
        for contact_id in keys.get((channel, address), ()):
            found[contact_id].add(channel)
    return {cid: frozenset(channels) for cid, channels in found.items()}


def load_campaigns(session: Session, campaign_ids: Iterable[int]) -> dict[int, Campaign]:
    """Campaign rows by id."""
    ids = sorted(set(campaign_ids))
    return {c.id: c for c in session.scalars(select(Campaign).where(Campaign.id.in_(ids)))}


def policy_for(campaign: Campaign | None) -> Policy:
    """The campaign's delivery policy (fallback, quiet hours, frequency cap)."""
    if campaign is None:
        return DEFAULT_POLICY
    return build_policy(
        campaign.fallback,
        campaign.quiet_hours,
        campaign.frequency_cap,
        campaign.frequency_window_days,
    )


def recent_sends(
    session: Session, contact_ids: Iterable[int], window_start: datetime
) -> dict[int, int]:
    """Messages sent to each contact since `window_start` (across campaigns)."""
    return {
        cid: int(n)
        for cid, n in session.execute(
            select(OutboxMessage.contact_id, func.count())
            .where(
                OutboxMessage.contact_id.in_(sorted(set(contact_ids))),
                OutboxMessage.state == OutboxState.SENT.value,
                OutboxMessage.sent_at >= window_start,
            )
            .group_by(OutboxMessage.contact_id)
        )
    }


def campaign_context(campaign: Campaign | None, campaign_id: int) -> dict[str, Any]:
    """What templates see as `campaign`."""
    if campaign is None:
        return {"id": campaign_id, "name": ""}
    return {"id": campaign.id, "name": campaign.name, "objective": campaign.objective}
