"""Inbound returns: DSN bounces (parsed with flufl.bounce) and SMS gateway callbacks.

A bounce is matched to its outbox row by the Message-ID Campana gave the
original (signed, so it cannot be forged), else to the contact by address.
Permanent failures are hard bounces and suppress the address; temporary ones
are soft. SMS receipts update nothing but the returns; an inbound STOP
withdraws the SMS consent and suppresses the number.
"""

from __future__ import annotations

import email
import email.policy
import hmac
import re
from dataclasses import dataclass
from typing import Any

from flufl.bounce import all_failures
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import InvalidInput
from ema.outbox import OutboxMessage
from ema.returns import Return
from ema.tokens import Signer
from ema.tracking import STOP_WORDS, record_return, suppress
from sfa.models import Channel, Contact
from sfa.schemas import ConsentIn
from sfa.service import set_consent

_OUR_ID = re.compile(rb"<(\d+)\.(\d+)\.([A-Za-z0-9_-]{10})@[^>\s]+>")


@dataclass(frozen=True)
class BounceReport:
    hard: list[str]
    soft: list[str]
    matched_outbox_ids: list[int]


def outbox_of_message_id(session: Session, signer: Signer, raw: bytes) -> OutboxMessage | None:
    """The outbox row whose (signed) Message-ID appears in `raw`, if any."""
    for match in _OUR_ID.finditer(raw):
        outbox_id = int(match.group(2))
        expected = signer.sign("m", outbox_id).rsplit(".", 1)[1][:10]
        if hmac.compare_digest(expected.encode(), match.group(3)):
            return session.get(OutboxMessage, outbox_id)
    return None


def process_bounce(session: Session, signer: Signer, raw: bytes, *, clock: Clock) -> BounceReport:
    """Record one DSN: hard bounces suppress the address, soft ones are noted."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        temporary, permanent = all_failures(message)
    except Exception as exc:
        raise InvalidInput("body", f"not a delivery status notification: {exc}") from None
    if not temporary and not permanent:
        raise InvalidInput("body", "no failed recipient found in this message")
    outbox = outbox_of_message_id(session, signer, raw)
    now = clock.now()
    matched: list[int] = []
    for kind, addresses in (("hard", permanent), ("soft", temporary - permanent)):
        for raw_address in sorted(addresses):
            address = raw_address.decode(errors="replace").strip().lower()
            target = outbox if outbox is not None and _same(session, outbox, address) else None
            contact_id = None if target else _contact_by_email(session, address)
            record_return(
                session,
                "email.bounced",
                occurred_at=now,
                outbox=target,
                contact_id=contact_id,
                channel="email",
                detail={"type": kind, "address": address},
            )
            if target is not None:
                matched.append(target.id)
            if kind == "hard":
                suppress(session, "email", address, "hard bounce", clock=clock)
    return BounceReport(
        sorted(a.decode(errors="replace").lower() for a in permanent),
        sorted(a.decode(errors="replace").lower() for a in temporary - permanent),
        matched,
    )


def _same(session: Session, outbox: OutboxMessage, address: str) -> bool:
    email_of = session.scalar(select(Contact.email).where(Contact.id == outbox.contact_id))
    return (email_of or "").lower() == address


def _contact_by_email(session: Session, address: str) -> int | None:
    return session.scalar(select(Contact.id).where(Contact.email == address).limit(1))


def process_sms(
    session: Session, signer: Signer, payload: dict[str, Any], *, clock: Clock
) -> Return:
    """A gateway callback: `{"type": "receipt", "reference", "status"}` or
    `{"type": "inbound", "from", "text"}`."""
    kind = payload.get("type")
    if kind == "receipt":
        reference = str(payload.get("reference", "")).encode()
        outbox = outbox_of_message_id(session, signer, reference)
        if outbox is None:
            raise InvalidInput("reference", "not a message Campana sent")
        status = str(payload.get("status", "")).lower()
        if status not in ("delivered", "failed", "expired", "rejected", "accepted"):
            raise InvalidInput("status", "must be delivered, failed, expired, rejected or accepted")
        name = "sms.bounced" if status in ("failed", "expired", "rejected") else f"sms.{status}"
        return record_return(
            session,
            name,
            occurred_at=clock.now(),
            outbox=outbox,
            detail={"status": status, "error": str(payload.get("error", ""))[:200]},
        )
    if kind == "inbound":
        return _inbound(session, payload, clock=clock)
    raise InvalidInput("type", "must be receipt or inbound")


def _inbound(session: Session, payload: dict[str, Any], *, clock: Clock) -> Return:
    sender = str(payload.get("from", "")).replace(" ", "")
    text = str(payload.get("text", ""))
    if not sender.startswith("+"):
        raise InvalidInput("from", "must be an E.164 number")
    contact = session.scalar(select(Contact).where(Contact.phone == sender).limit(1))
    last = None
    if contact is not None:
        last = session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.contact_id == contact.id, OutboxMessage.channel == "sms")
            .order_by(OutboxMessage.sent_at.desc())
            .limit(1)
        )
    if text.strip().upper() in STOP_WORDS:
        suppress(session, "sms", sender, "STOP received", clock=clock)
        if contact is not None:
            set_consent(
                session,
                contact,
                ConsentIn(channel=Channel.SMS, granted=False, source="SMS STOP"),
                clock=clock,
            )
        kind = "sms.unsubscribed"
    else:
        kind = "sms.replied"
    return record_return(
        session,
        kind,
        occurred_at=clock.now(),
        outbox=last,
        contact_id=contact.id if contact else None,
        channel="sms",
        detail={"text": text[:500]},
    )
