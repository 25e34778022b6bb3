"""Returns from contacts: opens, clicks, unsubscribes, bounces, SMS receipts and STOP.

Everything lands in `ema_returns` through `record_return`, with the campaign,
step, variant and channel of the outbox row it answers. Opens and clicks by
privacy proxies and link scanners (known user agents, or a click within
seconds of delivery) are kept but flagged `is_machine`, so reports count
humans only. Unsubscribing (a page or the RFC 8058 one-click POST) withdraws
the consent through SFA; hard bounces and STOP put the address on the
suppression list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.models import Suppression, normalise_address
from core.clock import Clock
from core.errors import InvalidInput, NotFound
from ema.outbox import OutboxMessage
from ema.returns import Return
from ema.tokens import BadToken, Signer, TokenData
from sfa.models import Channel, Contact
from sfa.schemas import ConsentIn
from sfa.service import set_consent

MACHINE_AGENTS = re.compile(
    r"GoogleImageProxy|YahooMailProxy|ggpht\.com|Barracuda|Proofpoint|Mimecast|urldefense|"
    r"SafeLinks|Microsoft Office Protection|Symantec|Forcepoint|bot\b|crawler|spider|"
    r"HeadlessChrome|python-requests|curl/|Go-http-client",
    re.IGNORECASE,
)
SCANNER_CLICK_SECONDS = 10
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "PARAR"})


@dataclass(frozen=True)
class Visit:
    """What the tracking endpoint saw: the user agent and when."""

    user_agent: str
    at: datetime


def record_return(
    session: Session,
    kind: str,
    *,
    occurred_at: datetime,
    outbox: OutboxMessage | None = None,
    contact_id: int | None = None,
    channel: str | None = None,
    is_machine: bool = False,
    detail: dict[str, Any] | None = None,
) -> Return:
    """The one way a return is written; an outbox row fills campaign, step, variant, channel."""
    row = Return(
        kind=kind,
        occurred_at=occurred_at,
        is_machine=is_machine,
        detail=detail or {},
        contact_id=outbox.contact_id if outbox is not None else contact_id,
        campaign_id=outbox.campaign_id if outbox is not None else None,
        step_id=outbox.step_id if outbox is not None else None,
        variant=outbox.variant if outbox is not None else None,
        channel=(outbox.channel if outbox is not None else None) or channel,
        outbox_id=outbox.id if outbox is not None else None,
    )
    session.add(row)
    session.flush()
    return row


def verify(signer: Signer, kind: str, token: str) -> TokenData:
    """The token's data, or InvalidInput (the endpoints answer 404 without detail)."""
    try:
        return signer.verify(kind, token)
    except BadToken as exc:
        raise InvalidInput("token", str(exc)) from None


def _outbox(session: Session, outbox_id: int) -> OutboxMessage:
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise NotFound("message", outbox_id)
    return row


def is_machine(outbox: OutboxMessage, visit: Visit, *, click: bool) -> bool:
    """Privacy proxies and scanners: a known agent, or a click right after delivery."""
    if MACHINE_AGENTS.search(visit.user_agent or "") or not visit.user_agent:
        return True
    if click and outbox.sent_at is not None:
        return visit.at - outbox.sent_at < timedelta(seconds=SCANNER_CLICK_SECONDS)
    return False


def track_open(session: Session, signer: Signer, token: str, visit: Visit) -> Return:
    data = verify(signer, "o", token)
    outbox = _outbox(session, data.outbox_id)
    machine = is_machine(outbox, visit, click=False)
    detail = {"user_agent": visit.user_agent[:300]}
    return record_return(
        session,
        "email.opened",
        occurred_at=visit.at,
        outbox=outbox,
        is_machine=machine,
        detail=detail,
    )


def track_click(session: Session, signer: Signer, token: str, visit: Visit) -> str:
    """Record the click and return the signed original URL (never anything else)."""
    data = verify(signer, "c", token)
    if data.url is None or not data.url.startswith(("http://", "https://")):
        raise InvalidInput("token", "no URL in this token")
    outbox = _outbox(session, data.outbox_id)
    kind = f"{outbox.channel or 'email'}.clicked"
    record_return(
        session,
        kind,
        occurred_at=visit.at,
        outbox=outbox,
        is_machine=is_machine(outbox, visit, click=True),
        detail={"url": data.url[:1000], "user_agent": visit.user_agent[:300]},
    )
    return data.url


def unsubscribe(session: Session, signer: Signer, token: str, *, clock: Clock, how: str) -> Return:
    """Withdraw the consent for the message's channel (idempotent on the consent)."""
    data = verify(signer, "u", token)
    outbox = _outbox(session, data.outbox_id)
    channel = outbox.channel or "email"
    contact = session.get(Contact, outbox.contact_id)
    if contact is None:
        raise NotFound("contact", outbox.contact_id)
    set_consent(
        session,
        contact,
        ConsentIn(channel=Channel(channel), granted=False, source=f"unsubscribe ({how})"),
        clock=clock,
    )
    return record_return(
        session,
        f"{channel}.unsubscribed",
        occurred_at=clock.now(),
        outbox=outbox,
        detail={"how": how},
    )


def suppress(
    session: Session, channel: str, address: str, reason: str, *, clock: Clock
) -> tuple[Suppression, bool]:
    """Put an address on the suppression list; (row, False) when it already was."""
    normalised = normalise_address(channel, address)
    found = session.scalar(
        select(Suppression).where(Suppression.channel == channel, Suppression.address == normalised)
    )
    if found is not None:
        return found, False
    row = Suppression(
        channel=channel, address=normalised, reason=reason[:200], created_at=clock.now()
    )
    session.add(row)
    session.flush()
    return row, True
