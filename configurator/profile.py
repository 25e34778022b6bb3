"""What a contact configured: their latest complete or ordered configuration, for templates.

`latest_products` answers for a whole batch of contacts in ONE query (a
window function keeps each contact's most recent complete or ordered
configuration, the product joined in), as plain dictionaries: EMA renders
them as `product` in marketer templates without importing the configurator
(api/wiring.py hands this function to the renderer).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from configurator.models import Configuration, ConfigurationStatus, Product

CONFIGURED = (ConfigurationStatus.COMPLETE.value, ConfigurationStatus.ORDERED.value)


def latest_products(session: Session, contact_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Per contact id (only those who have one): name, slug, price, choices of the product."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    rank = (
        func.row_number()
        .over(
            partition_by=Configuration.contact_id,
            order_by=(Configuration.last_activity_at.desc(), Configuration.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(
            Configuration.contact_id,
            Configuration.id,
            Configuration.status,
            Configuration.price_min,
            Configuration.choices,
            Configuration.last_activity_at,
            Product.name,
            Product.slug,
            rank,
        )
        .join(Product, Product.id == Configuration.product_id)
        .where(Configuration.contact_id.in_(ids), Configuration.status.in_(CONFIGURED))
        .subquery("latest_configuration")
    )
    rows = session.execute(select(ranked).where(ranked.c.rank == 1))
    return {row.contact_id: _product(row) for row in rows}


def _product(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "slug": row.slug,
        "price": row.price_min,
        "choices": {name: choice.get("value") for name, choice in (row.choices or {}).items()},
        "configuration_id": row.id,
        "ordered": row.status == ConfigurationStatus.ORDERED.value,
        "configured_at": row.last_activity_at,
    }
