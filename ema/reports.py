"""Campaign reports and a contact's delivery history: plain Core selects.

Per step and channel: outbox outcomes (sent, failed, skipped, waiting) and
returns (opened, clicked, unsubscribed, bounced, replied) counted once per
message and for humans only; machine opens and clicks are counted apart.
Conversions (won opportunities, ordered configurations) are counted each,
on the step and channel of the touch they were credited to.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from ema.journey import CONVERSION_KIND
from ema.outbox import OutboxMessage
from ema.returns import Return

OUTCOMES = ("sent", "failed", "skipped", "pending", "claimed")
RETURNS = (
    "opened",
    "clicked",
    "unsubscribed",
    "bounced",
    "replied",
    "delivered",
    "visited",
    "converted",
)


def _empty(step_id: str | None, channel: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {"step_id": step_id, "channel": channel}
    row.update(dict.fromkeys(OUTCOMES, 0))
    row.update(dict.fromkeys(RETURNS, 0))
    row.update({"machine_opened": 0, "machine_clicked": 0})
    return row


def campaign_report(session: Session, campaign_id: int) -> list[dict[str, Any]]:
    """One row per (step, channel), ordered by step then channel."""
    rows: dict[tuple[str | None, str | None], dict[str, Any]] = {}

    def row(step: str | None, channel: str | None) -> dict[str, Any]:
        key = (step, channel)
        if key not in rows:
            rows[key] = _empty(step, channel)
        return rows[key]

    outcomes = session.execute(
        select(OutboxMessage.step_id, OutboxMessage.channel, OutboxMessage.state, func.count())
        .where(OutboxMessage.campaign_id == campaign_id)
        .group_by(OutboxMessage.step_id, OutboxMessage.channel, OutboxMessage.state)
    )
    for step_id, out_channel, state, count in outcomes:
        if state in OUTCOMES:
            row(step_id, out_channel)[state] += count
    returns = session.execute(
        select(
            Return.step_id,
            Return.channel,
            Return.kind,
            Return.is_machine,
            func.count(distinct(func.coalesce(Return.outbox_id, -Return.id))),
        )
        .where(Return.campaign_id == campaign_id)
        .group_by(Return.step_id, Return.channel, Return.kind, Return.is_machine)
    )
    for step, channel, kind, machine, count in returns:
        what = "converted" if kind == CONVERSION_KIND else kind.rpartition(".")[2]
        target = row(step, channel)
        if machine and what in ("opened", "clicked"):
            target[f"machine_{what}"] += count
        elif not machine and what in RETURNS:
            target[what] += count
    return [rows[k] for k in sorted(rows, key=lambda k: (k[0] or "", k[1] or ""))]


def contact_deliveries(session: Session, contact_id: int) -> list[dict[str, Any]]:
    """Every step planned for the contact: what happened, on which channel, and why."""
    messages = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.campaign_id,
            OutboxMessage.step_id,
            OutboxMessage.variant,
            OutboxMessage.state,
            OutboxMessage.channel,
            OutboxMessage.reason,
            OutboxMessage.due_at,
            OutboxMessage.sent_at,
            OutboxMessage.attempts,
        )
        .where(OutboxMessage.contact_id == contact_id)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    ).all()
    kinds: dict[int, list[str]] = defaultdict(list)
    if messages:
        for outbox_id, kind in session.execute(
            select(Return.outbox_id, Return.kind)
            .where(Return.contact_id == contact_id, Return.outbox_id.is_not(None))
            .order_by(Return.occurred_at)
        ):
            if outbox_id is not None:
                kinds[outbox_id].append(kind)
    return [{**m._asdict(), "returns": kinds.get(m.id, [])} for m in messages]
