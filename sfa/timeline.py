"""The customer record: everything that happened with a contact, across modules.

SFA writes its own entries (`add_timeline_entry`) into `sfa_timeline`. Modules
SFA may not import (ema, configurator) keep their history in their own tables
and expose it as a `core.history.TimelineSource`. `list_timeline`
merges SFA's table with the sources it is given (api/wiring.py lists them) in
one order: `(occurred_at, source, seq)` descending, keyset-paginated, so a page
costs one indexed query per source whatever the page number.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.history import Bound, HistoryEntry, TimelineSource, newest_first
from core.pagination import Page, PageParams, decode_cursor, encode_cursor
from sfa.models import Contact, TimelineEntry
from sfa.schemas import TimelineRead

SEQ_ABOVE = 2**62
"""A seq greater than any real one: the bound admits every entry at that instant."""
SEQ_BELOW = -1
"""A seq smaller than any real one: the bound admits nothing at that instant."""
SFA_SOURCE = "sfa"


class TimelineItem(TimelineRead):
    """One entry of the merged timeline: `TimelineRead` plus the source's details.

    `id` is the row id in the module's own table (`ref` says which table);
    `original_contact_id` is set when the entry belongs to a contact merged
    into this one.
    """

    detail: dict[str, Any] = Field(default_factory=dict)


def add_timeline_entry(
    session: Session,
    contact_id: int,
    kind: str,
    summary: str,
    *,
    module: str,
    ref: str | None = None,
    occurred_at: datetime,
) -> TimelineEntry:
    """Record that `kind` happened with `contact_id` at `occurred_at` (no flush needed)."""
    entry = TimelineEntry(
        contact_id=contact_id,
        occurred_at=occurred_at,
        kind=kind[:50],
        summary=summary[:500],
        module=module[:20],
        ref=ref,
    )
    session.add(entry)
    return entry


def history_ids(session: Session, contact_id: int) -> list[int]:
    """The contact and every contact merged into it (merges re-point chains to the survivor)."""
    merged = session.scalars(select(Contact.id).where(Contact.merged_into_id == contact_id))
    return [contact_id, *sorted(merged)]


def sfa_source(
    session: Session, contact_ids: Sequence[int], before: Bound | None, limit: int
) -> list[HistoryEntry]:
    """SFA's own entries (index `ix_sfa_timeline_contact_time`)."""
    query = newest_first(
        select(TimelineEntry).where(TimelineEntry.contact_id.in_(contact_ids)),
        TimelineEntry.occurred_at,
        TimelineEntry.id,
        before,
        limit,
    )
    return [
        HistoryEntry(
            occurred_at=r.occurred_at,
            seq=r.id,
            id=r.id,
            contact_id=r.original_contact_id or r.contact_id,
            kind=r.kind,
            summary=r.summary,
            module=r.module,
            ref=r.ref,
        )
        for r in session.scalars(query)
    ]


@dataclass(frozen=True)
class _Key:
    """The merged order's key: `(occurred_at, source, seq)`, compared descending."""

    at: datetime
    source: str
    seq: int

    def bound_for(self, source: str) -> Bound:
        """What `source` may still return after this key was the last one shown."""
        if source == self.source:
            return (self.at, self.seq)
        return (self.at, SEQ_ABOVE if source < self.source else SEQ_BELOW)

    def cursor(self) -> str:
        return encode_cursor([self.at.isoformat(), self.source, self.seq])


def _parse_cursor(cursor: str | None, names: Sequence[str]) -> _Key | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        at, source, seq = datetime.fromisoformat(raw[0]), str(raw[1]), int(raw[2])
    except (TypeError, ValueError, IndexError, KeyError):
        raise InvalidInput("cursor", "malformed timeline cursor") from None
    if source not in names or at.tzinfo is None:
        raise InvalidInput("cursor", "malformed timeline cursor")
    return _Key(at, source, seq)


def _stream(source: str, rows: Sequence[HistoryEntry]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield (row.occurred_at, source, row.seq, row)


def list_timeline(
    session: Session,
    contact_id: int,
    page: PageParams,
    *,
    sources: Mapping[str, TimelineSource] | None = None,
) -> Page[TimelineItem]:
    """Everything that happened with the contact (and contacts merged into it), newest first."""
    everyone: dict[str, TimelineSource] = {SFA_SOURCE: sfa_source, **(sources or {})}
    after = _parse_cursor(page.cursor, list(everyone))
    ids = history_ids(session, contact_id)
    streams = [
        _stream(
            name, source(session, ids, after.bound_for(name) if after else None, page.limit + 1)
        )
        for name, source in sorted(everyone.items())
    ]
    merged = heapq.merge(*streams, key=lambda t: (t[0], t[1], t[2]), reverse=True)
    taken = list(itertools.islice(merged, page.limit + 1))
    items = [_item(row, contact_id) for *_, row in taken[: page.limit]]
    cursor = None
    if len(taken) > page.limit:
        at, source, seq, _ = taken[page.limit - 1]
        cursor = _Key(at, source, seq).cursor()
    return Page[TimelineItem](items=items, next_cursor=cursor)


def _item(row: HistoryEntry, contact_id: int) -> TimelineItem:
    return TimelineItem(
        id=row.id,
        contact_id=contact_id,
        occurred_at=row.occurred_at,
        kind=row.kind,
        summary=row.summary,
        module=row.module,
        ref=row.ref,
        original_contact_id=row.contact_id if row.contact_id != contact_id else None,
        detail=dict(row.detail),
    )
