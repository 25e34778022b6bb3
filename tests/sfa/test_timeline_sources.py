"""Merging timeline sources: one order `(occurred_at, source, seq)` newest first, keyset pages.

Bad inputs tried: many entries of different sources at the same instant cut by
every page size, a source that returns nothing, a cursor whose time has no zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.history import Bound, HistoryEntry, TimelineSource
from core.pagination import PageParams, encode_cursor
from sfa.timeline import list_timeline
from tests.builders import T0
from tests.conftest import KeyMaker


def _source(name: str, stamps: list[tuple[int, int]]) -> TimelineSource:
    """A source over fixed entries: (minutes after T0, seq)."""
    entries = [
        HistoryEntry(
            occurred_at=T0 + timedelta(minutes=m),
            seq=seq,
            id=seq,
            contact_id=0,
            kind=f"{name}.thing",
            summary=f"{name} {m} {seq}",
            module=name,
            ref=None,
        )
        for m, seq in stamps
    ]
    ordered = sorted(entries, key=lambda e: (e.occurred_at, e.seq), reverse=True)

    def read(
        session: Session, contact_ids: Sequence[int], before: Bound | None, limit: int
    ) -> list[HistoryEntry]:
        del session, contact_ids
        kept = [e for e in ordered if before is None or (e.occurred_at, e.seq) < before]
        return kept[:limit]

    return read


def _walk(
    session: Session, contact_id: int, sources: dict[str, TimelineSource], limit: int
) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = list_timeline(
            session, contact_id, PageParams(limit=limit, cursor=cursor), sources=sources
        )
        seen += [e.summary for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_ties_across_sources_survive_every_page_size(
    client: TestClient, auth_headers: KeyMaker, session: Session
) -> None:
    headers = auth_headers("admin")
    made = client.post("/api/v1/contacts", json={"email": "tie@x.io"}, headers=headers)
    contact_id = made.json()["id"]
    sources = {
        "ema": _source("ema", [(5, 2), (5, 4), (7, 6), (1, 8)]),
        "configurator": _source("configurator", [(5, 1), (5, 3), (9, 5)]),
        "empty": _source("empty", []),
    }
    whole = _walk(session, contact_id, sources, 100)
    assert whole[:3] == ["configurator 9 5", "ema 7 6", "ema 5 4"]
    assert whole[3:7] == ["ema 5 2", "configurator 5 3", "configurator 5 1", "ema 1 8"]
    assert whole[-1].startswith("Contact created")
    for limit in range(1, 9):
        assert _walk(session, contact_id, sources, limit) == whole, limit


def test_a_cursor_without_a_zone_is_refused(session: Session) -> None:
    cursor = encode_cursor(["2026-03-02T09:00:00", "sfa", 1])
    with pytest.raises(InvalidInput) as caught:
        list_timeline(session, 1, PageParams(cursor=cursor))
    assert caught.value.field == "cursor"
