"""Email replies: a raw RFC 822 message matched to the message Campana sent.

A reply names what it answers in `In-Reply-To` (then `References`, newest
first); Campana's Message-IDs carry the outbox row and a MAC
(`<campaign.row.mac@domain>`, see `Renderer.message_id`), so only a message
Campana really sent matches. The match becomes one `email.replied` return for
that campaign, step and contact, recorded once per reply (keyed by the
reply's own Message-ID, or a digest of the message when it has none).
Automatic answers (`Auto-Submitted`, out-of-office headers) are kept but
flagged as machine returns.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass
from email.message import Message as MailMessage
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import Clock
from core.errors import InvalidInput
from ema.inbound import outbox_of_message_id
from ema.outbox import OutboxMessage
from ema.returns import Return
from ema.tokens import Signer
from ema.tracking import record_return

REPLIED = "email.replied"
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")


@dataclass(frozen=True)
class ReplyMatch:
    """What a reply was matched to (`duplicate`: it had been recorded before)."""

    return_id: int
    outbox_id: int
    campaign_id: int
    step_id: str
    contact_id: int
    is_machine: bool
    duplicate: bool


def parse_mail(raw: bytes) -> MailMessage:
    """The message, or InvalidInput when `raw` is not an RFC 822 message with headers."""
    if not raw.strip():
        raise InvalidInput("body", "empty: post the raw RFC 822 message")
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not message.keys():
        raise InvalidInput("body", "not an RFC 822 message: no header found")
    if message.get("From") is None and message.get("Message-ID") is None:
        raise InvalidInput("body", "not an email: neither From nor Message-ID")
    return message


def _answered(session: Session, signer: Signer, message: MailMessage) -> OutboxMessage | None:
    """The outbox row the reply answers: In-Reply-To first, then References newest first."""
    in_reply_to = str(message.get("In-Reply-To") or "")
    references = str(message.get("References") or "").split()
    for candidate in (in_reply_to, *reversed(references)):
        if candidate:
            found = outbox_of_message_id(session, signer, candidate.encode(errors="replace"))
            if found is not None:
                return found
    return None


def _key(message: MailMessage, raw: bytes) -> str:
    message_id = str(message.get("Message-ID") or "").strip()
    return message_id[:300] or "sha256:" + hashlib.sha256(raw).hexdigest()


def _is_auto(message: MailMessage) -> bool:
    auto = str(message.get("Auto-Submitted") or "no").strip().lower()
    return auto != "no" or any(message.get(h) is not None for h in _AUTO_HEADERS)


def process_reply(
    session: Session, signer: Signer, raw: bytes, *, clock: Clock
) -> ReplyMatch | None:
    """Record the reply as a return of the message it answers; None when it answers none."""
    message = parse_mail(raw)
    outbox = _answered(session, signer, message)
    if outbox is None:
        return None
    key = _key(message, raw)
    found = session.scalar(
        select(Return).where(
            Return.outbox_id == outbox.id,
            Return.kind == REPLIED,
            Return.detail["message_id"].as_string() == key,
        )
    )
    duplicate = found is not None
    if found is None:
        found = record_return(
            session,
            REPLIED,
            occurred_at=clock.now(),
            outbox=outbox,
            channel="email",
            is_machine=_is_auto(message),
            detail={
                "message_id": key,
                "from": parseaddr(str(message.get("From") or ""))[1][:300],
                "subject": str(message.get("Subject") or "")[:300],
            },
        )
    return ReplyMatch(
        found.id,
        outbox.id,
        outbox.campaign_id,
        outbox.step_id,
        outbox.contact_id,
        found.is_machine,
        duplicate,
    )
