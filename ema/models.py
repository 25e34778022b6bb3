"""EMA planning tables: segments, static lists, campaigns, their task plans and enrolments.

A campaign's journey is stored as JSON and validated on save (`ema/journey.py`);
each contact's position in it is one `Enrolment` row (current step, `due_at`,
state), so the execution job can resume anywhere after a restart.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from sfa.models import Contact


class SegmentKind(StrEnum):
    RULES = "rules"
    STATIC = "static"


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Audience(StrEnum):
    SNAPSHOT = "snapshot"
    LIVE = "live"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class EnrolmentState(StrEnum):
    ACTIVE = "active"
    DONE = "done"
    CONVERTED = "converted"
    EXITED = "exited"


class Segment(Base):
    """A named audience: a rule tree over contacts, or a static list of members."""

    __tablename__ = "ema_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default=SegmentKind.RULES.value)
    rules: Mapped[dict[str, Any] | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StaticListMember(Base):
    """One contact on a static list (a segment of kind `static`)."""

    __tablename__ = "ema_static_list_members"

    segment_id: Mapped[int] = mapped_column(
        ForeignKey("ema_segments.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("sfa_contacts.id"), primary_key=True)
    added_at: Mapped[datetime]


class Campaign(Base):
    """A campaign: audience, journey, budget and channel costs, and where it stands."""

    __tablename__ = "ema_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str | None] = mapped_column(Text)
    segment_id: Mapped[int] = mapped_column(ForeignKey("ema_segments.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=CampaignStatus.DRAFT.value, index=True)
    audience: Mapped[str] = mapped_column(String(10), default=Audience.SNAPSHOT.value)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    channel_costs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    journey: Mapped[dict[str, Any]]
    fallback: Mapped[list[Any] | None]
    """Channel order tried after the contact's preferred one (None: Campana's default)."""
    quiet_hours: Mapped[dict[str, Any] | None]
    """Local-time windows per channel, e.g. {"sms": ["21:00", "08:00"]} (null: none)."""
    frequency_cap: Mapped[int | None]
    """At most this many messages per contact, across campaigns, in the window."""
    frequency_window_days: Mapped[int | None]
    start_at: Mapped[datetime | None]
    launched_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CampaignTask(Base):
    """Internal work of a campaign plan (design, legal review, list pull...)."""

    __tablename__ = "ema_campaign_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("ema_campaigns.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    due_at: Mapped[datetime | None]
    duration_days: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(10), default=TaskStatus.OPEN.value)
    blocking: Mapped[bool] = mapped_column(default=True)
    depends_on: Mapped[list[Any]] = mapped_column(default=list)
    """Ids of tasks of the same campaign that must be done first."""
    overdue_notified_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Enrolment(Base):
    """One contact's place in one campaign's journey."""

    __tablename__ = "ema_enrolments"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        Index("ix_ema_enrolments_campaign_state_due", "campaign_id", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("ema_campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("sfa_contacts.id"), index=True)
    step_id: Mapped[str | None] = mapped_column(String(64))
    due_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(10), default=EnrolmentState.ACTIVE.value)
    variant: Mapped[str | None] = mapped_column(String(32))
    enrolled_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StepStat(Base):
    """How many contacts went through a step (counters bumped once per batch)."""

    __tablename__ = "ema_step_stats"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("ema_campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    step_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    done: Mapped[int] = mapped_column(default=0)


# Indexes on sfa_contacts that segment queries lean on: declared here (EMA's need) so the
# ema migration creates them and `alembic check` sees models and schema agree.
SEGMENT_CONTACT_INDEXES = (
    Index("ix_ema_contacts_country_created", Contact.country, Contact.created_at),
    Index("ix_ema_contacts_created_at", Contact.created_at),
)
