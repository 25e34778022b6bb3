"""The configurator's part of a contact's timeline: sessions started, completed,
abandoned and ordered, with the product.

A timeline source for `sfa.timeline` (the configurator may not import sfa:
the entries are plain objects with the attributes that protocol reads; the
wiring in api/wiring.py hands this function over). One UNION ALL query per
page over `cfg_configurations` (indexed `contact_id`) and `cfg_orders`, with
the product joined in. A configuration `id` yields the keys `4 * id + k`:
k = 0 started, 1 completed, 2 abandoned, 3 ordered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from configurator.models import Configuration, Order, Product
from core.history import Bound, HistoryEntry, newest_first

MODULE = "configurator"
STEPS = (
    ("started", 0, Configuration.created_at),
    ("completed", 1, Configuration.completed_at),
    ("abandoned", 2, Configuration.abandoned_at),
)
SUMMARY = {
    "started": "Started configuring {name}",
    "completed": "Completed a {name} configuration",
    "abandoned": "Abandoned a {name} configuration",
    "ordered": "Ordered a {name} (order {order_id})",
}


def _step_query(contact_ids: Sequence[int], name: str, rank: int, at: Any) -> Any:
    return (
        select(
            at.label("at"),
            (cast(Configuration.id, BigInteger) * 4 + rank).label("seq"),
            Configuration.id.label("row_id"),
            Configuration.contact_id.label("contact_id"),
            literal(name).label("step"),
            Product.slug.label("product"),
            Product.name.label("product_name"),
            Configuration.status.label("status"),
            cast(null(), Integer).label("order_id"),
        )
        .join(Product, Product.id == Configuration.product_id)
        .where(Configuration.contact_id.in_(contact_ids), at.is_not(None))
    )


def _orders(contact_ids: Sequence[int]) -> Any:
    return (
        select(
            Order.created_at.label("at"),
            (cast(Configuration.id, BigInteger) * 4 + 3).label("seq"),
            Configuration.id.label("row_id"),
            Configuration.contact_id.label("contact_id"),
            literal("ordered").label("step"),
            Product.slug.label("product"),
            Product.name.label("product_name"),
            Configuration.status.label("status"),
            Order.id.label("order_id"),
        )
        .join(Order, Order.configuration_id == Configuration.id)
        .join(Product, Product.id == Configuration.product_id)
        .where(Configuration.contact_id.in_(contact_ids))
    )


def configurator_source(
    session: Session, contact_ids: Sequence[int], before: Bound | None, limit: int
) -> list[HistoryEntry]:
    """The contacts' configuration sessions, newest first, strictly before `before`."""
    parts = [_step_query(contact_ids, name, rank, at) for name, rank, at in STEPS]
    both = union_all(*parts, _orders(contact_ids)).subquery("cfg_history")
    query = newest_first(select(both), both.c.at, both.c.seq, before, limit)
    return [_entry(row) for row in session.execute(query)]


def _entry(row: Any) -> HistoryEntry:
    return HistoryEntry(
        occurred_at=row.at,
        seq=int(row.seq),
        id=int(row.row_id),
        contact_id=int(row.contact_id),
        kind=f"configuration.{row.step}",
        summary=SUMMARY[row.step].format(name=row.product_name, order_id=row.order_id)[:500],
        module=MODULE,
        ref=f"configuration:{row.row_id}",
        detail={
            "product": row.product,
            "product_name": row.product_name,
            "configuration_id": row.row_id,
            "status": row.status,
            "order_id": row.order_id,
        },
    )
