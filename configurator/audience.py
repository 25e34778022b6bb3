"""Segment rules over configuration sessions, compiled for EMA's segments.

`{"configuration": {"product": "ebike", "status": "abandoned", "within_days": 30}}`
selects the contacts with a configuration of that product (slug), in that
status (one or a list of `open`, `complete`, `ordered`, `abandoned`), whose
status was reached within the last N days: `abandoned_at`, `completed_at`,
or the last activity for open and ordered ones (an order is the last
activity of its configuration). Every key is optional; `{}` is "has
configured anything". EMA may not import the configurator: api/wiring.py
hands `ConfigurationRule()` to `ema.segments`, which calls `problems` and
`unknown_refs` to validate (errors name the rule path) and `contact_ids` to
compile the rule into `sfa_contacts.id IN (SELECT contact_id FROM
cfg_configurations ...)`, part of the segment's one query.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from configurator.models import Configuration, ConfigurationStatus, Product
from core.errors import InvalidInput

KEYS = ("product", "status", "within_days")
STATUSES = tuple(s.value for s in ConfigurationStatus)
REACHED_AT = {
    ConfigurationStatus.OPEN.value: Configuration.last_activity_at,
    ConfigurationStatus.COMPLETE.value: Configuration.completed_at,
    ConfigurationStatus.ORDERED.value: Configuration.last_activity_at,
    ConfigurationStatus.ABANDONED.value: Configuration.abandoned_at,
}
"""When a configuration reached its status (what `within_days` looks at)."""


def _statuses(rule: Mapping[str, Any]) -> list[str]:
    status = rule.get("status")
    if status is None:
        return []
    return list(status) if isinstance(status, list) else [status]


class ConfigurationRule:
    """The `configuration` segment rule (an `ema.segment_rules.ExternalRule`)."""

    def problems(self, rule: Any, path: str) -> list[InvalidInput]:
        """Shape errors of the rule's value, each naming its path."""
        if not isinstance(rule, dict):
            return [InvalidInput(path, "must be an object: {product, status, within_days}")]
        errors = [
            InvalidInput(f"{path}.{key}", "unknown key of a configuration rule")
            for key in sorted(set(rule) - set(KEYS))
        ]
        product = rule.get("product", "x")
        if not isinstance(product, str) or not product:
            errors.append(InvalidInput(f"{path}.product", "must be a product slug"))
        status = rule.get("status", STATUSES[0])
        names = status if isinstance(status, list) else [status]
        if not names or not all(isinstance(n, str) and n in STATUSES for n in names):
            reason = f"must be one of {', '.join(STATUSES)} (or a list of them)"
            errors.append(InvalidInput(f"{path}.status", reason))
        days = rule.get("within_days", 0)
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            errors.append(InvalidInput(f"{path}.within_days", "must be an integer >= 0"))
        return errors

    def unknown_refs(self, session: Session, rule: Any, path: str) -> list[InvalidInput]:
        """The rule names a product that does not exist."""
        slug = rule.get("product") if isinstance(rule, dict) else None
        if not isinstance(slug, str):
            return []
        if session.scalar(select(Product.id).where(Product.slug == slug)) is not None:
            return []
        return [InvalidInput(f"{path}.product", f"no product {slug!r}")]

    def contact_ids(self, rule: Mapping[str, Any], now: datetime) -> Select[Any]:
        """The ids of the contacts having such a configuration (one SELECT, no NULLs)."""
        query = select(Configuration.contact_id).where(Configuration.contact_id.is_not(None))
        if "product" in rule:
            product = select(Product.id).where(Product.slug == rule["product"])
            query = query.where(Configuration.product_id.in_(product.scalar_subquery()))
        statuses = _statuses(rule)
        if "within_days" not in rule:
            return query.where(Configuration.status.in_(statuses)) if statuses else query
        since = now - timedelta(days=rule["within_days"])
        if not statuses:
            return query.where(Configuration.last_activity_at >= since)
        reached: list[ColumnElement[bool]] = [
            (Configuration.status == s) & (REACHED_AT[s] >= since) for s in statuses
        ]
        return query.where(or_(*reached))
