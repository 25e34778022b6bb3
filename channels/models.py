"""Channel tables: the global suppression list.

An address on this list (an email or an E.164 phone, per channel) is never
sent to again, whatever the campaign or the consent says: hard bounces,
STOP replies, complaints and manual entries land here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Suppression(Base):
    """One suppressed address on one channel, with why and since when."""

    __tablename__ = "ch_suppressions"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


def normalise_address(channel: str, address: str) -> str:
    """The form addresses are stored and compared in (emails lower-cased)."""
    address = address.strip()
    return address.lower() if channel == "email" else address.replace(" ", "")
