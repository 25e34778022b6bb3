"""Clock and cursor helpers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.clock import FrozenClock, SystemClock
from core.errors import InvalidInput
from core.pagination import decode_cursor, encode_cursor
from tests.builders import T0


def test_frozen_clock_moves_only_when_told() -> None:
    clock = FrozenClock(T0)
    assert clock.now() == T0
    assert clock.advance(timedelta(hours=2)) == T0 + timedelta(hours=2)
    with pytest.raises(ValueError, match="aware"):
        FrozenClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive value is the point
    assert SystemClock().now().tzinfo is not None


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor([42, "2026-01-01"])) == [42, "2026-01-01"]
    assert decode_cursor(None) is None
    with pytest.raises(InvalidInput) as info:
        decode_cursor("%%%not-base64")
    assert info.value.field == "cursor"
