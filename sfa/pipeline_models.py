"""SFA tables of the pipeline: stages, opportunities, the stage-change log, proposals.

Amounts are integer minor units (cents) so that sums are exact on every database.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Stage(Base):
    """A pipeline stage: name, order, default probability (percent) and kind open/won/lost."""

    __tablename__ = "sfa_stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int]
    probability: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10))


class Opportunity(Base):
    """A deal being worked: amount, stage, expected close, owner, source campaign."""

    __tablename__ = "sfa_opportunities"
    __table_args__ = (Index("ix_sfa_opportunities_owner_stage", "owner_id", "stage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_contacts.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_accounts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("sfa_stages.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    expected_close: Mapped[date | None]
    source_campaign_id: Mapped[int | None]
    stage_entered_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_on: Mapped[date | None] = mapped_column(index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    deleted_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)


class StageChange(Base):
    """One move of an opportunity between stages (from is None at creation)."""

    __tablename__ = "sfa_stage_changes"
    __table_args__ = (Index("ix_sfa_stage_changes_opp_time", "opportunity_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("sfa_opportunities.id"))
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_stages.id"))
    to_stage_id: Mapped[int] = mapped_column(ForeignKey("sfa_stages.id"))
    changed_at: Mapped[datetime]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"))


class Proposal(Base):
    """A quote for an opportunity or contact: draft, sent, accepted or rejected."""

    __tablename__ = "sfa_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("sfa_opportunities.id"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("sfa_contacts.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ProposalLine(Base):
    """A line of a proposal; `product_ref` and `specification` come from the configurator."""

    __tablename__ = "sfa_proposal_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("sfa_proposals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int]
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    product_ref: Mapped[str | None] = mapped_column(String(100))
    specification: Mapped[dict[str, Any]] = mapped_column(default=dict)
