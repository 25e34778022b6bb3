"""EMA's part of a contact's timeline: campaign messages and what came back.

A `sfa.timeline.TimelineSource` (listed in api/wiring.py): one UNION ALL query
per page over `ema_outbox` (rows that were sent, failed or skipped; pending
ones have not happened yet) and `ema_returns` (opens, clicks, bounces,
unsubscribes, replies, conversions... machine ones flagged), both filtered on
their indexed `contact_id`, with the campaign's name joined in. Keys: an
outbox row's `seq` is `2 * id`, a return's `2 * id + 1`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Text,
    cast,
    false,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from core.history import Bound, HistoryEntry, newest_first
from ema.models import Campaign
from ema.outbox import OutboxMessage, OutboxState
from ema.returns import Return

MODULE = "ema"
HAPPENED = (OutboxState.SENT.value, OutboxState.FAILED.value, OutboxState.SKIPPED.value)


def _messages(contact_ids: Sequence[int]) -> Any:
    return (
        select(
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.due_at).label("at"),
            (cast(OutboxMessage.id, BigInteger) * 2).label("seq"),
            OutboxMessage.id.label("row_id"),
            OutboxMessage.contact_id.label("contact_id"),
            ("message." + OutboxMessage.state).label("kind"),
            OutboxMessage.campaign_id.label("campaign_id"),
            Campaign.name.label("campaign"),
            OutboxMessage.step_id.label("step_id"),
            OutboxMessage.variant.label("variant"),
            OutboxMessage.channel.label("channel"),
            cast(OutboxMessage.reason, Text).label("reason"),
            false().label("is_machine"),
            cast(null(), Return.__table__.c.detail.type).label("extra"),
        )
        .outerjoin(Campaign, Campaign.id == OutboxMessage.campaign_id)
        .where(OutboxMessage.contact_id.in_(contact_ids), OutboxMessage.state.in_(HAPPENED))
    )


def _returns(contact_ids: Sequence[int]) -> Any:
    return (
        select(
            Return.occurred_at.label("at"),
            (cast(Return.id, BigInteger) * 2 + 1).label("seq"),
            Return.id.label("row_id"),
            Return.contact_id.label("contact_id"),
            Return.kind.label("kind"),
            Return.campaign_id.label("campaign_id"),
            Campaign.name.label("campaign"),
            Return.step_id.label("step_id"),
            Return.variant.label("variant"),
            Return.channel.label("channel"),
            cast(literal(None), Text).label("reason"),
            Return.is_machine.label("is_machine"),
            Return.detail.label("extra"),
        )
        .outerjoin(Campaign, Campaign.id == Return.campaign_id)
        .where(Return.contact_id.in_(contact_ids))
    )


def ema_source(
    session: Session, contact_ids: Sequence[int], before: Bound | None, limit: int
) -> list[HistoryEntry]:
    """The contacts' campaign messages and returns, newest first, strictly before `before`."""
    both = union_all(_messages(contact_ids), _returns(contact_ids)).subquery("ema_history")
    query = newest_first(select(both), both.c.at, both.c.seq, before, limit)
    return [_entry(row) for row in session.execute(query)]


def _entry(row: Any) -> HistoryEntry:
    message = row.kind.startswith("message.")
    detail: dict[str, Any] = {
        "campaign_id": row.campaign_id,
        "campaign": row.campaign,
        "step_id": row.step_id,
        "variant": row.variant,
        "channel": row.channel,
    }
    if message:
        detail["reason"] = row.reason
    else:
        detail["is_machine"] = bool(row.is_machine)
        detail["return"] = row.extra or {}
    return HistoryEntry(
        occurred_at=row.at,
        seq=int(row.seq),
        id=int(row.row_id),
        contact_id=int(row.contact_id),
        kind=row.kind,
        summary=_summary(row, message),
        module=MODULE,
        ref=f"{'outbox' if message else 'return'}:{row.row_id}",
        detail=detail,
    )


def _summary(row: Any, message: bool) -> str:
    where = f"campaign {row.campaign!r}" if row.campaign else f"campaign {row.campaign_id}"
    if row.step_id:
        where += f", step {row.step_id}"
    if message:
        what = f"{(row.channel or 'message').capitalize()} {row.kind.removeprefix('message.')}"
        why = f": {row.reason}" if row.reason and row.kind != "message.sent" else ""
        return f"{what} ({where}){why}"[:500]
    machine = " [machine]" if row.is_machine else ""
    if row.campaign_id is None:
        return f"{row.kind}{machine}"
    return f"{row.kind} ({where}){machine}"[:500]
