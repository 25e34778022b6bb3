"""Conversions from outside EMA (a configured product ordered), attributed to a campaign.

The handler takes plain values (EMA may not import the configurator; the
adapter in api/wiring.py hands them over). A conversion is credited to the
campaign that last touched the contact: its latest human click or open
within `ATTRIBUTION_WINDOW` before the conversion (the step, variant and
channel of that touch too). With no such touch it is still recorded, with
no campaign. It is written with the kind journeys test for conversions
(`CONVERSION_KIND`: `branch on converted` and `goal` see it), and
`detail.source` tells an order from a won opportunity. Recording is
idempotent on `detail["ref"]` when given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ema.journey import CONVERSION_KIND
from ema.returns import Return
from sfa import service as sfa_service

ATTRIBUTION_WINDOW = timedelta(days=30)
TOUCH_KINDS = ("email.opened", "email.clicked", "sms.clicked", "web.clicked", "post.clicked")
"""Returns that count as a campaign touching a contact (human ones only)."""


def last_touch(session: Session, contact_id: int, at: datetime) -> Return | None:
    """The contact's latest human open or click of a campaign within the window before `at`."""
    return session.scalar(
        select(Return)
        .where(
            Return.contact_id == contact_id,
            Return.kind.in_(TOUCH_KINDS),
            Return.occurred_at >= at - ATTRIBUTION_WINDOW,
            Return.occurred_at <= at,
            ~Return.is_machine,
            Return.campaign_id.is_not(None),
        )
        .order_by(Return.occurred_at.desc(), Return.id.desc())
        .limit(1)
    )


def _contact_by_email(session: Session, email: str | None) -> int | None:
    if not email or not email.strip():
        return None
    found = sfa_service.find_live_contact(session, email.strip().lower(), None)
    return found.id if found is not None else None


def record_conversion(
    session: Session,
    *,
    contact_id: int | None,
    occurred_at: datetime,
    detail: dict[str, Any],
    email: str | None = None,
) -> Return | None:
    """Record one conversion (None when no contact is known by id or email)."""
    contact_id = contact_id if contact_id is not None else _contact_by_email(session, email)
    if contact_id is None:
        return None
    ref = detail.get("ref")
    if ref is not None:
        found = session.scalar(
            select(Return).where(
                Return.contact_id == contact_id,
                Return.kind == CONVERSION_KIND,
                Return.detail["ref"].as_string() == str(ref),
            )
        )
        if found is not None:
            return found
    touch = last_touch(session, contact_id, occurred_at)
    row = Return(
        contact_id=contact_id,
        campaign_id=touch.campaign_id if touch else None,
        step_id=touch.step_id if touch else None,
        variant=touch.variant if touch else None,
        channel=touch.channel if touch else None,
        kind=CONVERSION_KIND,
        occurred_at=occurred_at,
        is_machine=False,
        detail={**detail, "touch_return_id": touch.id if touch else None},
    )
    session.add(row)
    session.flush()
    return row
