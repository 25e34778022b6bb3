"""The `web` channel: a personalised landing page published at a signed URL.

Sending publishes: the page renders when the contact opens
`/t/w/<token>` (a `web.visited` return), so there is nothing to transmit
and every message is settled as sent at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from channels.base import Message, SendResult


class WebChannel:
    name = "web"

    def send_batch(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        for message in messages:
            yield SendResult.sent(message.outbox_id, message.data.get("url"))

    def close(self) -> None:
        """Nothing to release."""
