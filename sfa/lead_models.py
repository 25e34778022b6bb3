"""SFA tables of lead ingestion: integrations, leads, the ingestion log, idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Integration(Base):
    """A system that pushes leads; `secret` signs its webhooks (HMAC-SHA256)."""

    __tablename__ = "sfa_integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class Lead(Base):
    """A prospect's expression of interest, always attached to a contact."""

    __tablename__ = "sfa_leads"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("sfa_contacts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="open")
    company: Mapped[str | None] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class LeadIngestion(Base):
    """The log of every lead pushed: created, duplicate or rejected (with the reason)."""

    __tablename__ = "sfa_lead_ingestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)
    caller: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_contacts.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_leads.id"))


class IdempotencyRecord(Base):
    """The first response to a request under an `Idempotency-Key`, per caller."""

    __tablename__ = "sfa_idempotency"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    body_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
