"""The one delivery protocol every channel adapter speaks.

A `Message` is fully rendered content addressed to one contact; a channel's
`send_batch` yields one `SendResult` per message *as soon as that message is
settled with the provider*, so the dispatcher can record it before the next
one goes out (a worker killed mid-batch then resends nothing that was
accepted).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Outcome(StrEnum):
    """What became of one message."""

    SENT = "sent"
    TRANSIENT = "transient"
    """Try again later (provider busy, connection lost, 4xx)."""
    PERMANENT = "permanent"
    """Never retry (address refused, 5xx, target forbidden)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered message for one recipient; `message_id` is stable per outbox row."""

    outbox_id: int
    channel: str
    to: str
    message_id: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    """Structured payload for channels that are not text (webhook, post, web, phone)."""


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one message; `reason` says why it was not sent."""

    outbox_id: int
    outcome: Outcome
    reason: str | None = None
    provider_id: str | None = None

    @classmethod
    def sent(cls, outbox_id: int, provider_id: str | None = None) -> SendResult:
        return cls(outbox_id, Outcome.SENT, None, provider_id)

    @classmethod
    def transient(cls, outbox_id: int, reason: str) -> SendResult:
        return cls(outbox_id, Outcome.TRANSIENT, reason)

    @classmethod
    def permanent(cls, outbox_id: int, reason: str) -> SendResult:
        return cls(outbox_id, Outcome.PERMANENT, reason)


class Channel(Protocol):
    """A delivery adapter: `name` is the channel it serves (email, sms, ...)."""

    name: str

    def send_batch(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        """Send in order, yielding each result as soon as it is known and before the next
        message goes out. `messages` may be lazy (rendered as it is consumed)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


class ChannelError(Exception):
    """A failure an adapter reports as a result rather than raising further."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def result(self, outbox_id: int) -> SendResult:
        if self.permanent:
            return SendResult.permanent(outbox_id, self.reason)
        return SendResult.transient(outbox_id, self.reason)
