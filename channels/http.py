"""What the HTTP channels share: result mapping and the refusal of internal targets."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx

from channels.base import ChannelError, SendResult


def result_of(outbox_id: int, response: httpx.Response, provider_id: str | None) -> SendResult:
    """2xx sent; 408/425/429 and 5xx transient; any other status permanent."""
    code = response.status_code
    if 200 <= code < 300:
        return SendResult.sent(outbox_id, provider_id)
    reason = f"http {code} {response.text[:200].strip()}"
    if code in (408, 425, 429) or code >= 500:
        return SendResult.transient(outbox_id, reason)
    return SendResult.permanent(outbox_id, reason)


def check_target(url: str, *, allow_private: bool) -> None:
    """ChannelError (permanent) unless `url` is http(s) to a public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChannelError(f"not an http(s) URL: {url[:200]}", permanent=True)
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise ChannelError(f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise ChannelError(
                f"{parts.hostname} resolves to a non-public address ({address}): refused",
                permanent=True,
            )
