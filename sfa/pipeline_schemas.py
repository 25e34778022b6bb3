"""Pydantic shapes of stages, opportunities, stage changes and proposals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StageKind(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class StageCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    position: int = Field(ge=0)
    probability: int = Field(ge=0, le=100)
    kind: StageKind = StageKind.OPEN


class StageUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    position: int | None = Field(default=None, ge=0)
    probability: int | None = Field(default=None, ge=0, le=100)


class StageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    position: int
    probability: int
    kind: str


Money = Decimal


class OpportunityCreate(BaseModel):
    name: str = Field(min_length=1, max_length=300)
    contact_id: int | None = None
    account_id: int | None = None
    owner_id: int | None = None
    stage: str | None = Field(default=None, description="Stage name; the first open stage if unset")
    amount: Money = Field(ge=0, max_digits=14, decimal_places=2)
    currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    expected_close: date | None = None
    source_campaign_id: int | None = None


class OpportunityUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    stage: str | None = None
    amount: Money | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    currency: str | None = Field(default=None, pattern="^[A-Z]{3}$")
    expected_close: date | None = None
    owner_id: int | None = None
    contact_id: int | None = None
    account_id: int | None = None


class OpportunityRead(BaseModel):
    id: int
    name: str
    contact_id: int | None
    account_id: int | None
    owner_id: int | None
    stage: str
    stage_kind: str
    probability: int
    amount: Money
    currency: str
    expected_close: date | None
    source_campaign_id: int | None
    stage_entered_at: datetime
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int


class StageChangeRead(BaseModel):
    from_stage: str | None
    to_stage: str
    changed_at: datetime
    changed_by: int | None


class ProposalStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ProposalLineIn(BaseModel):
    description: str = Field(min_length=1, max_length=500)
    quantity: int = Field(ge=1)
    unit_price: Money = Field(ge=0, max_digits=14, decimal_places=2)
    product_ref: str | None = Field(default=None, max_length=100)
    specification: dict[str, Any] = Field(default_factory=dict)


class ProposalCreate(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    opportunity_id: int | None = None
    contact_id: int | None = None
    currency: str = Field(default="EUR", pattern="^[A-Z]{3}$")
    lines: list[ProposalLineIn] = Field(min_length=1)


class ProposalUpdate(BaseModel):
    status: ProposalStatus


class ProposalLineRead(BaseModel):
    position: int
    description: str
    quantity: int
    unit_price: Money
    total: Money
    product_ref: str | None
    specification: dict[str, Any]


class ProposalRead(BaseModel):
    id: int
    title: str
    opportunity_id: int | None
    contact_id: int | None
    owner_id: int | None
    status: str
    currency: str
    total: Money
    lines: list[ProposalLineRead]
    created_at: datetime
    updated_at: datetime
