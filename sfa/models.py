"""SFA tables: accounts and contacts (the hub every module uses) and their consents.

A contact is never hard-deleted while it has history: merging marks the
loser with `merged_into_id`, deleting stamps `deleted_at` (a tombstone the
mobile sync hands out). Email and phone are unique among live contacts only.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Channel(StrEnum):
    """The ways to reach a contact; also what a contact may prefer."""

    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"
    WEB = "web"
    POST = "post"


LIVE = text("merged_into_id IS NULL AND deleted_at IS NULL")


class Account(Base):
    """A company (or household) that contacts belong to; accounts nest."""

    __tablename__ = "sfa_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_accounts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(300))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)


class Contact(Base):
    """A person Campana may reach, sell to, call or configure a product for."""

    __tablename__ = "sfa_contacts"
    __table_args__ = (
        Index(
            "uq_sfa_contacts_live_email",
            "email",
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        ),
        Index(
            "uq_sfa_contacts_live_phone",
            "phone",
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        ),
        Index("ix_sfa_contacts_country_language", "country", "language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_accounts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str | None] = mapped_column(String(8))
    preferred_channel: Mapped[str | None] = mapped_column(String(10))
    job_title: Mapped[str | None] = mapped_column(String(200))
    postal_address: Mapped[str | None] = mapped_column(String(500))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    deleted_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_contacts.id"))
    version: Mapped[int] = mapped_column(default=1)


class Consent(Base):
    """The current consent of a contact for one channel, with where it came from."""

    __tablename__ = "sfa_consents"
    __table_args__ = (UniqueConstraint("contact_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("sfa_contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime]


class Team(Base):
    """A sales team led by a manager; a user belongs to at most one team."""

    __tablename__ = "sfa_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    created_at: Mapped[datetime]


class TeamMember(Base):
    """Membership of a user in a team."""

    __tablename__ = "sfa_team_members"

    user_id: Mapped[int] = mapped_column(ForeignKey("core_users.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("sfa_teams.id", ondelete="CASCADE"), index=True)


class TimelineEntry(Base):
    """One thing that happened with a contact, written by SFA or a higher module."""

    __tablename__ = "sfa_timeline"
    __table_args__ = (Index("ix_sfa_timeline_contact_time", "contact_id", "occurred_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("sfa_contacts.id"))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(String(500))
    module: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str | None] = mapped_column(String(100))
    original_contact_id: Mapped[int | None]


class Activity(Base):
    """A call, meeting, email, note or task about a contact, lead or opportunity."""

    __tablename__ = "sfa_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str | None] = mapped_column(String(4000))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_contacts.id"), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_leads.id"), index=True)
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_opportunities.id"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    due_at: Mapped[datetime | None]
    remind_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    origin: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)


class OwnerChange(Base):
    """One change of owner of a synced record (contact, opportunity, activity).

    Mobile sync reads it to tell a phone that a record left its caller's
    visibility (a `reassigned` tombstone); `sfa.ownership` writes it.
    """

    __tablename__ = "sfa_owner_changes"
    __table_args__ = (Index("ix_sfa_owner_changes_changed_at", "changed_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int]
    from_owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"))
    to_owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"))
    changed_at: Mapped[datetime]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"))
