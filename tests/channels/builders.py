"""Builders for dispatch tests: contacts with consents, templates, outbox rows.

Contacts and outbox rows are inserted directly (campaign_id is a plain
integer: no campaign needs to exist); templates go through `ema.content`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.auth import SYSTEM
from core.clock import FrozenClock
from ema.content import TemplateDraft, create_template
from ema.outbox import OutboxMessage
from sfa.models import Consent, Contact
from tests.builders import T0

_serial = itertools.count(1)

MJML = """<mjml><mj-body><mj-section><mj-column>
<mj-text>Hello {{ contact.first_name }}, news from {{ campaign.name or 'us' }}.</mj-text>
<mj-button href="https://example.com/offer?c={{ contact.id }}&amp;x=1">See the offer</mj-button>
<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>
</mj-column></mj-section></mj-body></mjml>"""


def contact(
    session: Session,
    *,
    consents: Iterable[str] = ("email",),
    withdrawn: Iterable[str] = (),
    now: datetime = T0,
    **fields: Any,
) -> Contact:
    """A live contact with an email, a phone and the given consents."""
    n = next(_serial)
    values: dict[str, Any] = {
        "first_name": f"Ana{n}",
        "last_name": "Silva",
        "email": f"ana{n}@example.com",
        "phone": f"+3519100{n:05d}",
        "time_zone": "UTC",
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    row = Contact(**values)
    session.add(row)
    session.flush()
    for channel in consents:
        session.add(
            Consent(
                contact_id=row.id, channel=channel, granted=True, source="test", recorded_at=now
            )
        )
    for channel in withdrawn:
        session.add(
            Consent(
                contact_id=row.id, channel=channel, granted=False, source="test", recorded_at=now
            )
        )
    session.flush()
    return row


def template(session: Session, channel: str = "email", **fields: Any) -> int:
    """A template (version 1) for `channel`; email is MJML by default."""
    by_channel: dict[str, dict[str, Any]] = {
        "email": {
            "subject": "Hi {{ contact.first_name }}",
            "mjml": MJML,
            "text": "Hi {{ contact.first_name }}\n",
        },
        "sms": {"body": "Hi {{ contact.first_name }}, reply STOP to opt out"},
        "post": {"body": "Dear {{ contact.name }}"},
        "web": {"html": "<h1>Welcome {{ contact.first_name }}</h1>"},
        "phone": {"body": "Call {{ contact.first_name }}"},
        "webhook": {"body": "{{ contact.email }}", "data": {"url": "https://hooks.example.com/"}},
    }
    defaults = by_channel[channel]
    draft = TemplateDraft(channel=channel, name=f"t{next(_serial)}", **{**defaults, **fields})
    made, _ = create_template(session, draft, actor=SYSTEM, clock=FrozenClock(T0))
    return made.id


def outbox(
    session: Session,
    contact_ids: Sequence[int],
    content: dict[str, Any],
    *,
    campaign_id: int = 1,
    step_id: str = "s1",
    due_at: datetime = T0,
) -> list[int]:
    """Pending outbox rows (one per contact), inserted in bulk; returns their ids."""
    rows = [
        {
            "campaign_id": campaign_id,
            "step_id": step_id,
            "contact_id": cid,
            "variant": None,
            "content": content,
            "state": "pending",
            "due_at": due_at,
            "attempts": 0,
            "created_at": due_at,
        }
        for cid in contact_ids
    ]
    session.execute(insert(OutboxMessage), rows)
    session.flush()
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.campaign_id == campaign_id, OutboxMessage.step_id == step_id)
            .order_by(OutboxMessage.id)
        )
    )
