"""Configurator tables: products, their immutable model versions, stored configurations.

A product (`cfg_products`, unique slug) gets a new `cfg_product_versions` row
each time a model is imported under its slug; a version's source text is never
changed, so a configuration keeps the version it started on. A configuration
stores what is needed to show its state without touching the solver (choices
with who set them, the valid domains, the price range) and to resume the
dialog (the user's choices are the `set_by == "user"` entries). Contacts live
in `sfa`, a sibling layer: `contact_id` is a plain integer, not a foreign key.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class ModelFormat(StrEnum):
    """The formats a product model may be imported from."""

    NATIVE = "native"
    FEATUREIDE = "featureide"
    XCSP = "xcsp"


class ConfigurationStatus(StrEnum):
    """Where a configuration stands."""

    OPEN = "open"
    COMPLETE = "complete"
    ORDERED = "ordered"
    ABANDONED = "abandoned"


class Product(Base):
    """A configurable product, known by its slug."""

    __tablename__ = "cfg_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProductVersion(Base):
    """One imported model of a product; immutable once written."""

    __tablename__ = "cfg_product_versions"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("cfg_products.id"), index=True)
    version: Mapped[int]
    format: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(String(64))
    variable_count: Mapped[int]
    created_by_key_id: Mapped[int | None]
    created_at: Mapped[datetime]


class Configuration(Base):
    """A customer's configuration dialog on one product version."""

    __tablename__ = "cfg_configurations"
    __table_args__ = (Index("ix_cfg_configurations_status_activity", "status", "last_activity_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("cfg_products.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("cfg_product_versions.id"), index=True)
    needs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    choices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """name -> {"value": V, "set_by": "user|default|engine"}: the state shown."""
    domains: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The engine's valid domains of every open question (to resume without solving)."""
    proposed: Mapped[bool] = mapped_column(default=False)
    """True when `choices` is a completion proposed by the engine (POST .../complete)."""
    status: Mapped[str] = mapped_column(String(20), default=ConfigurationStatus.OPEN.value)
    price_min: Mapped[float | None]
    price_max: Mapped[float | None]
    price_witness: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The cheapest and dearest products found and the choices they were found for."""
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_id: Mapped[int | None] = mapped_column(index=True)
    created_by_key_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    abandoned_at: Mapped[datetime | None]


class Order(Base):
    """A complete configuration ordered: a snapshot of the product, its price and its BOM.

    One order per configuration. The snapshot does not change when the
    product gets a new version; manufacturing hand-off reads it (next issue).
    """

    __tablename__ = "cfg_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    configuration_id: Mapped[int] = mapped_column(ForeignKey("cfg_configurations.id"), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("cfg_products.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("cfg_product_versions.id"))
    product_values: Mapped[dict[str, Any]]
    bom_lines: Mapped[list[Any]]
    price: Mapped[float]
    cost: Mapped[float]
    lead_time_days: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="placed")
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_id: Mapped[int | None] = mapped_column(index=True)
    created_by_key_id: Mapped[int | None]
    created_at: Mapped[datetime]
