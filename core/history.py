"""The contract of a contact's history, shared by every module that keeps some.

SFA owns the customer timeline, but EMA and the configurator keep their own
history in their own tables, and SFA may import neither. Each of them
exposes a `TimelineSource`: one page of a contact's entries, newest first,
strictly before a bound `(occurred_at, seq)`, where `seq` is an integer
unique within the source (compared as BIGINT, so integers order alike in SQL
and Python on every database). `sfa.timeline` merges the sources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import BigInteger, Select, SQLColumnExpression, and_, literal, or_
from sqlalchemy.orm import Session

Bound = tuple[datetime, int]
"""Strictly-before bound handed to a source: `(occurred_at, seq)`."""


@dataclass(frozen=True)
class HistoryEntry:
    """One thing that happened with a contact, as a source reports it."""

    occurred_at: datetime
    seq: int
    id: int
    contact_id: int
    kind: str
    summary: str
    module: str
    ref: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)


class TimelineSource(Protocol):
    """One module's history: at most `limit` entries of `contact_ids` before `before`."""

    def __call__(
        self, session: Session, contact_ids: Sequence[int], before: Bound | None, limit: int
    ) -> Sequence[HistoryEntry]: ...


def newest_first(
    query: Select[Any],
    at: SQLColumnExpression[datetime],
    seq: SQLColumnExpression[int],
    before: Bound | None,
    limit: int,
) -> Select[Any]:
    """`query` restricted to rows strictly before `before`, newest first, `limit` rows."""
    if before is not None:
        when, number = before
        query = query.where(or_(at < when, and_(at == when, seq < literal(number, BigInteger))))
    return query.order_by(at.desc(), seq.desc()).limit(limit)
