"""Channel choice per prospect: pure logic, no I/O.

The preferred channel wins when the step has content for it, the contact
consented to it, is reachable there and is not suppressed; otherwise the
campaign's fallback order is tried. Quiet hours in the contact's time zone
make the message wait (never dropped); a frequency cap across campaigns and
the suppression list skip it. Every skip carries its reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ORDER = ("email", "sms", "post", "web", "phone", "webhook")
CONSENT_CHANNELS = frozenset({"email", "sms", "phone", "web", "post"})
"""Channels that reach the person (a webhook feeds a system the campaign owns)."""
DEFAULT_QUIET_HOURS: Mapping[str, tuple[time, time]] = {
    "sms": (time(21), time(8)),
    "phone": (time(20), time(9)),
}


class Action(StrEnum):
    SEND = "send"
    WAIT = "wait"
    SKIP = "skip"


@dataclass(frozen=True)
class Recipient:
    """What the choice needs to know about one contact, loaded in bulk by the caller."""

    contact_id: int
    email: str | None = None
    phone: str | None = None
    postal_address: str | None = None
    time_zone: str = "UTC"
    preferred_channel: str | None = None
    consents: Mapping[str, bool] = field(default_factory=dict)
    suppressed: frozenset[str] = frozenset()
    """Channels on which this contact's address is on the suppression list."""
    recent_sends: int = 0
    """Messages sent to this contact within the policy's frequency window."""
    live: bool = True


@dataclass(frozen=True)
class Policy:
    """A campaign's rules (with Campana's defaults)."""

    fallback: tuple[str, ...] = DEFAULT_ORDER
    quiet_hours: Mapping[str, tuple[time, time]] = field(
        default_factory=lambda: dict(DEFAULT_QUIET_HOURS)
    )
    frequency_cap: int | None = 5
    frequency_window: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Decision:
    action: Action
    channel: str | None = None
    address: str | None = None
    until: datetime | None = None
    reason: str | None = None


def address_for(recipient: Recipient, channel: str) -> str | None:
    """Where `channel` reaches the contact, None when it cannot."""
    if channel == "email":
        return recipient.email if recipient.email and "@" in recipient.email else None
    if channel in ("sms", "phone"):
        return recipient.phone if recipient.phone and recipient.phone.startswith("+") else None
    if channel == "post":
        return recipient.postal_address or None
    if channel in ("web", "webhook"):
        return f"contact:{recipient.contact_id}"
    return None


def _refusal(recipient: Recipient, channel: str, available: Collection[str]) -> str | None:
    if channel not in available:
        return f"{channel}: no such channel in this deployment"
    if channel in CONSENT_CHANNELS and not recipient.consents.get(channel, False):
        state = "withdrawn" if channel in recipient.consents else "not given"
        return f"{channel}: consent {state}"
    if address_for(recipient, channel) is None:
        return f"{channel}: not reachable (no valid address)"
    if channel in recipient.suppressed:
        return f"{channel}: address on the suppression list"
    return None


def quiet_until(zone: str, window: tuple[time, time], now: datetime) -> datetime | None:
    """The UTC end of the quiet window when `now` falls in it (in `zone`), else None."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    start, end = window
    clock = local.time()
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(now.tzinfo)


def choose(
    recipient: Recipient,
    content: Collection[str],
    available: Collection[str],
    policy: Policy,
    now: datetime,
) -> Decision:
    """Send on a channel, wait until a time, or skip with the reason."""
    if not recipient.live:
        return Decision(Action.SKIP, reason="contact deleted or merged")
    cap = policy.frequency_cap
    if cap is not None and recipient.recent_sends >= cap:
        days = policy.frequency_window.days
        return Decision(
            Action.SKIP, reason=f"frequency cap: {recipient.recent_sends} sent in {days} days"
        )
    order = [recipient.preferred_channel, *policy.fallback]
    candidates = [c for c in dict.fromkeys(order) if c is not None and c in content]
    if not candidates:
        return Decision(Action.SKIP, reason="no content for any channel in the fallback order")
    reasons = []
    for channel in candidates:
        refusal = _refusal(recipient, channel, available)
        if refusal is not None:
            reasons.append(refusal)
            continue
        window = policy.quiet_hours.get(channel)
        until = quiet_until(recipient.time_zone, window, now) if window else None
        address = address_for(recipient, channel)
        if until is not None:
            reason = f"{channel}: quiet hours in {recipient.time_zone}"
            return Decision(Action.WAIT, channel, address, until, reason)
        return Decision(Action.SEND, channel, address)
    return Decision(Action.SKIP, reason="; ".join(reasons))
