"""The dispatch outbox: one row per (campaign, step, contact), written in bulk by
the journey executor and drained by dispatch workers.

A row moves `pending -> claimed -> sent | failed | skipped` in the database;
the unique key makes a step impossible to write twice for a contact, and a
claim that expires (its worker died) goes back to the pool with the same row
id, hence the same Message-ID.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class OutboxState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class OutboxMessage(Base):
    """One message to deliver to one contact for one journey step."""

    __tablename__ = "ema_outbox"
    __table_args__ = (
        UniqueConstraint("campaign_id", "step_id", "contact_id"),
        Index("ix_ema_outbox_state_due_at", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(index=True)
    step_id: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int] = mapped_column(ForeignKey("sfa_contacts.id"), index=True)
    variant: Mapped[str | None] = mapped_column(String(32))
    content: Mapped[dict[str, Any]]
    """Template id per channel, e.g. {"email": 7, "sms": 8}."""
    state: Mapped[str] = mapped_column(String(10), default=OutboxState.PENDING.value)
    due_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    channel: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    """Why the row was skipped or failed (or the last transient error)."""
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
