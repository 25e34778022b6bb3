"""Events the configurator publishes; higher modules (ema, sfa links) subscribe in api/wiring.py.

A configuration carries no foreign key to a contact (sfa is a sibling layer):
the events hand over `contact_id` and `contact_email` as given, and the
subscriber resolves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from core.events import Event


@dataclass(frozen=True)
class ConfigurationCompleted(Event):
    """A configuration reached a complete product (by the customer's choices or a completion)."""

    name: ClassVar[str] = "configuration.completed"
    configuration_id: int
    product_id: int
    product_slug: str
    version: int
    price: float
    contact_id: int | None
    contact_email: str | None


@dataclass(frozen=True)
class ConfigurationAbandoned(Event):
    """An open configuration saw no activity for a while: campaigns may target it."""

    name: ClassVar[str] = "configuration.abandoned"
    configuration_id: int
    product_id: int
    product_slug: str
    version: int
    price_min: float | None
    price_max: float | None
    contact_id: int | None
    contact_email: str | None
    last_activity_at: datetime


@dataclass(frozen=True)
class ConfigurationOrdered(Event):
    """A complete configuration was ordered: manufacturing and SFA may react."""

    name: ClassVar[str] = "configuration.ordered"
    order_id: int
    configuration_id: int
    product_id: int
    product_slug: str
    version: int
    price: float
    contact_id: int | None
    contact_email: str | None
