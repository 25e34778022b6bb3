"""The `webhook` channel: an HMAC-signed JSON POST per message.

The body is the message's data plus its text; `X-Campana-Timestamp` and
`X-Campana-Signature: sha256=<hex HMAC of "timestamp.body">` let the
receiver check it. Private, loopback and link-local targets are refused
unless `CAMPANA_WEBHOOK_ALLOW_PRIVATE_ADDRESSES` is set, and the POST goes to
the very address that was checked. One attempt per dispatch: a 5xx, 429 or
timeout is transient and the dispatcher retries later with backoff (it does
not sleep inside the worker's batch, and the receiver can deduplicate on
`X-Campana-Message-Id`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Iterator

import httpx

from channels.base import ChannelError, Message, SendResult
from channels.http import check_target, result_of
from core.settings import WebhookSettings


def signature(key: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs to the URL each message is addressed to."""

    name = "webhook"

    def __init__(self, settings: WebhookSettings, key: bytes) -> None:
        self._allow_private = settings.allow_private_addresses
        self._key = key
        self._client = httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False)

    def send_batch(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        for message in messages:
            yield self._send(message)

    def _send(self, message: Message) -> SendResult:
        try:
            target = check_target(message.to, allow_private=self._allow_private)
        except ChannelError as exc:
            return exc.result(message.outbox_id)
        payload = {**message.data, "message_id": message.message_id, "text": message.text}
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        timestamp = str(int(time.time()))
        headers = {
            **target.headers(),
            "Content-Type": "application/json",
            "X-Campana-Timestamp": timestamp,
            "X-Campana-Signature": signature(self._key, timestamp, body),
            "X-Campana-Message-Id": message.message_id,
        }
        try:
            response = self._client.post(
                target.url, content=body, headers=headers, extensions=target.extensions()
            )
        except httpx.HTTPError as exc:
            return SendResult.transient(message.outbox_id, f"webhook: {exc}")
        return result_of(message.outbox_id, response, None)

    def close(self) -> None:
        self._client.close()
