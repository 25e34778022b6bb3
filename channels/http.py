"""What the HTTP channels share: result mapping and the refusal of internal targets."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
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


@dataclass(frozen=True)
class Target:
    """Where to POST: the URL to connect to and what to tell the server it is.

    When `url` names the checked address instead of the host (so that a DNS
    answer cannot change between the check and the connection), the original
    name travels as the `Host` header and as the TLS server name.
    """

    url: str
    host_header: str | None = None
    server_name: str | None = None

    def extensions(self) -> dict[str, Any]:
        return {"sni_hostname": self.server_name} if self.server_name else {}

    def headers(self) -> dict[str, str]:
        return {"Host": self.host_header} if self.host_header else {}


def check_target(url: str, *, allow_private: bool) -> Target:
    """The target of `url`, pinned to a public address it resolves to.

    ChannelError (permanent) unless `url` is http(s) and every address of its
    host is public; the connection then goes to the address that was checked.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChannelError(f"not an http(s) URL: {url[:200]}", permanent=True)
    if allow_private:
        return Target(url)
    default_port = 443 if parts.scheme == "https" else 80
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or default_port, proto=socket.IPPROTO_TCP
        )
    except socket.gaierror as exc:
        raise ChannelError(f"cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise ChannelError(
                f"{parts.hostname} resolves to a non-public address ({address}): refused",
                permanent=True,
            )
    pinned = f"[{addresses[0]}]" if addresses[0].version == 6 else str(addresses[0])
    netloc = f"{pinned}:{parts.port}" if parts.port else pinned
    host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
    return Target(parts._replace(netloc=netloc).geturl(), host, parts.hostname)
