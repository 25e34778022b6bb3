"""Keyset pagination: an opaque cursor carries the last id seen."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from core.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 500


class PageParams(BaseModel):
    """What a client asks for: at most `limit` items after `cursor`."""

    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = None


class Page(BaseModel, Generic[T]):
    """One page of items and the cursor of the next page (None on the last)."""

    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: Any) -> str:
    """Turn a key (id, or a tuple of sort values) into an opaque cursor."""
    raw = json.dumps(value, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    """The key inside `cursor`, or None; a malformed cursor is an InvalidInput."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor", "malformed pagination cursor") from None
