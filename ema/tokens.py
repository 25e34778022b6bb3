"""Signed tracking tokens: open pixel, click redirect, unsubscribe.

A token is `base64url(payload).base64url(MAC(key, kind|payload))`, the MAC being
keyed BLAKE2b with a 128-bit output (a MAC by design, and cheaper than HMAC);
the payload holds the outbox row id (and, for a click, the original URL), so
nothing can be guessed and a click can only redirect to the URL that was
signed into the message (no open redirect).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

KINDS = ("o", "c", "u", "w")
"""open, click, unsubscribe, web page."""


class BadToken(ValueError):
    """A token that was tampered with, truncated or made for another purpose."""


@dataclass(frozen=True)
class TokenData:
    kind: str
    outbox_id: int
    url: str | None = None


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Makes and checks tokens with one HMAC key."""

    def __init__(self, key: bytes) -> None:
        key = key if len(key) <= 64 else hashlib.sha256(key).digest()
        self._base = hashlib.blake2b(key=key, digest_size=16)

    def _mac(self, kind: str, payload: bytes) -> bytes:
        mac = self._base.copy()
        mac.update(kind.encode() + b"|" + payload)
        return mac.digest()

    def sign(self, kind: str, outbox_id: int, url: str | None = None) -> str:
        payload = str(outbox_id).encode() if url is None else f"{outbox_id} {url}".encode()
        return f"{_b64(payload)}.{_b64(self._mac(kind, payload))}"

    def verify(self, kind: str, token: str) -> TokenData:
        body, _, mac = token.partition(".")
        try:
            payload, given = _unb64(body), _unb64(mac)
        except (binascii.Error, ValueError):
            raise BadToken("malformed token") from None
        if _b64(payload) != body or _b64(given) != mac:
            raise BadToken("not a canonical token")
        if not hmac.compare_digest(given, self._mac(kind, payload)):
            raise BadToken("bad signature")
        text = payload.decode(errors="strict")
        number, _, url = text.partition(" ")
        if not number.isdigit():
            raise BadToken("malformed token")
        return TokenData(kind, int(number), url or None)
