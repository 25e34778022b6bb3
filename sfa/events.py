"""Events SFA publishes; higher modules (ema, callcenter) subscribe in api/wiring.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.events import Event


@dataclass(frozen=True)
class LeadCreated(Event):
    """A lead came in (new contact or attached to an existing one)."""

    name: ClassVar[str] = "lead.created"
    lead_id: int
    contact_id: int
    source: str
    duplicate: bool


@dataclass(frozen=True)
class ContactMerged(Event):
    """`loser_id` was merged into `survivor_id`: re-point rows that reference the loser."""

    name: ClassVar[str] = "contact.merged"
    survivor_id: int
    loser_id: int


@dataclass(frozen=True)
class OpportunityWon(Event):
    """An opportunity reached a stage of kind `won`."""

    name: ClassVar[str] = "opportunity.won"
    opportunity_id: int
    contact_id: int | None
    source_campaign_id: int | None
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class OpportunityLost(Event):
    """An opportunity reached a stage of kind `lost`."""

    name: ClassVar[str] = "opportunity.lost"
    opportunity_id: int
    contact_id: int | None
    source_campaign_id: int | None
