"""Returns: everything that comes back from a contact, in one table.

Opens, clicks, bounces, unsubscribes, replies, SMS receipts and STOPs, call
dispositions, web form submits and conversions all land here with the
campaign, step, variant and channel they answer, so reports are one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Return(Base):
    """One thing that came back: `kind` is dotted, e.g. `email.opened`, `opportunity.won`."""

    __tablename__ = "ema_returns"
    __table_args__ = (
        Index("ix_ema_returns_contact_kind_at", "contact_id", "kind", "occurred_at"),
        Index("ix_ema_returns_campaign_kind", "campaign_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_contacts.id"))
    campaign_id: Mapped[int | None]
    step_id: Mapped[str | None] = mapped_column(String(64))
    variant: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str | None] = mapped_column(String(10))
    outbox_id: Mapped[int | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    is_machine: Mapped[bool] = mapped_column(default=False)
    """Privacy proxies and link scanners: kept, flagged, not counted as human."""
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
