"""The `sms` channel: JSON POSTs to an HTTP gateway, with GSM-7/UCS-2 segment counts.

Each message goes as `{"to", "from", "text", "reference", "encoding",
"segments"}` with `Authorization: Bearer <gateway token>`; the gateway's
`id` is kept as the provider id. Delivery receipts and inbound STOP come
back through `POST /api/v1/inbound/sms`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import httpx

from channels.base import Message, SendResult
from channels.http import result_of
from core.settings import SmsSettings

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def segments(text: str) -> tuple[str, int]:
    """(encoding, segments): GSM-7 (160 septets, 153 when split) or UCS-2 (70, 67)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text):
        septets = sum(2 if c in GSM7_EXTENDED else 1 for c in text)
        return "gsm7", 1 if septets <= 160 else -(-septets // 153)
    units = len(text.encode("utf-16-le")) // 2
    return "ucs2", 1 if units <= 70 else -(-units // 67)


class SmsChannel:
    """Sends through the configured gateway, one keep-alive HTTP client per process."""

    name = "sms"

    def __init__(self, settings: SmsSettings, *, timeout: float = 10.0) -> None:
        if not settings.gateway_url:
            raise ValueError("CAMPANA_SMS_GATEWAY_URL is not set")
        self._url = settings.gateway_url
        self._sender = settings.sender
        token = settings.gateway_token.get_secret_value() if settings.gateway_token else ""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)

    def send_batch(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        for message in messages:
            text = message.text or ""
            encoding, count = segments(text)
            payload = {
                "to": message.to,
                "from": self._sender,
                "text": text,
                "reference": message.message_id,
                "encoding": encoding,
                "segments": count,
            }
            try:
                response = self._client.post(self._url, json=payload)
            except httpx.HTTPError as exc:
                yield SendResult.transient(message.outbox_id, f"sms gateway: {exc}")
                continue
            provider_id = None
            if response.is_success and "json" in response.headers.get("content-type", ""):
                body = response.json()
                provider_id = str(body.get("id")) if isinstance(body, dict) else None
            yield result_of(message.outbox_id, response, provider_id)

    def close(self) -> None:
        self._client.close()
