"""Proposals (quotes): line items, totals, and the status draft -> sent -> accepted|rejected.

A line may come from a configured product (`product_ref`, later issue) and
carries its specification as JSON. Totals are exact (integer minor units).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, InvalidInput, NotFound
from sfa.models import LIVE, Contact
from sfa.opportunities import from_minor, get_opportunity, to_minor
from sfa.pipeline_models import Proposal, ProposalLine
from sfa.pipeline_schemas import (
    ProposalCreate,
    ProposalLineRead,
    ProposalRead,
    ProposalStatus,
    ProposalUpdate,
)
from sfa.timeline import add_timeline_entry
from sfa.visibility import owner_filter

NEXT: dict[str, set[str]] = {
    "draft": {"sent"},
    "sent": {"accepted", "rejected", "draft"},
    "accepted": set(),
    "rejected": {"draft"},
}


def create_proposal(
    session: Session, data: ProposalCreate, *, actor: Principal, clock: Clock
) -> Proposal:
    """A draft proposal for an opportunity (or a contact) the caller may see."""
    contact_id, owner = data.contact_id, actor.user_id
    if data.opportunity_id is not None:
        opportunity, _ = get_opportunity(session, data.opportunity_id, actor=actor)
        contact_id = contact_id or opportunity.contact_id
        owner = owner or opportunity.owner_id
    if contact_id is None:
        raise InvalidInput("opportunity_id", "a proposal needs an opportunity or a contact")
    visible = select(Contact.id).where(
        Contact.id == contact_id, LIVE, owner_filter(actor, Contact.owner_id)
    )
    if data.opportunity_id is None and session.scalar(visible) is None:
        raise InvalidInput("contact_id", f"no contact {contact_id}")
    now = clock.now()
    proposal = Proposal(
        opportunity_id=data.opportunity_id,
        contact_id=contact_id,
        owner_id=owner,
        title=data.title,
        currency=data.currency,
        created_at=now,
        updated_at=now,
    )
    session.add(proposal)
    session.flush()
    total = 0
    for position, line in enumerate(data.lines, start=1):
        line_total = to_minor(line.unit_price) * line.quantity
        total += line_total
        session.add(
            ProposalLine(
                proposal_id=proposal.id,
                position=position,
                description=line.description,
                quantity=line.quantity,
                unit_price_minor=to_minor(line.unit_price),
                total_minor=line_total,
                product_ref=line.product_ref,
                specification=line.specification,
            )
        )
    proposal.total_minor = total
    _log(session, proposal, f"Proposal {proposal.title!r} drafted ({from_minor(total)})")
    return proposal


def _log(session: Session, proposal: Proposal, summary: str) -> None:
    if proposal.contact_id is not None:
        add_timeline_entry(
            session,
            proposal.contact_id,
            f"proposal.{proposal.status}",
            summary,
            module="sfa",
            ref=f"proposal:{proposal.id}",
            occurred_at=proposal.updated_at,
        )


def get_proposal(session: Session, proposal_id: int, *, actor: Principal) -> Proposal:
    proposal = session.scalar(
        select(Proposal).where(Proposal.id == proposal_id, owner_filter(actor, Proposal.owner_id))
    )
    if proposal is None:
        raise NotFound("proposal", proposal_id)
    return proposal


def update_proposal(
    session: Session, proposal_id: int, data: ProposalUpdate, *, actor: Principal, clock: Clock
) -> Proposal:
    """Move the status along draft -> sent -> accepted|rejected (or back to draft)."""
    proposal = get_proposal(session, proposal_id, actor=actor)
    if data.status.value not in NEXT[proposal.status]:
        raise Conflict(
            f"a {proposal.status} proposal cannot become {data.status.value}", field="status"
        )
    proposal.status, proposal.updated_at = data.status.value, clock.now()
    _log(session, proposal, f"Proposal {proposal.title!r} {proposal.status}")
    return proposal


def read_proposal(session: Session, proposal: Proposal) -> ProposalRead:
    lines = session.scalars(
        select(ProposalLine)
        .where(ProposalLine.proposal_id == proposal.id)
        .order_by(ProposalLine.position)
    )
    return ProposalRead(
        id=proposal.id,
        title=proposal.title,
        opportunity_id=proposal.opportunity_id,
        contact_id=proposal.contact_id,
        owner_id=proposal.owner_id,
        status=proposal.status,
        currency=proposal.currency,
        total=from_minor(proposal.total_minor),
        created_at=proposal.created_at,
        updated_at=proposal.updated_at,
        lines=[
            ProposalLineRead(
                position=line.position,
                description=line.description,
                quantity=line.quantity,
                unit_price=from_minor(line.unit_price_minor),
                total=from_minor(line.total_minor),
                product_ref=line.product_ref,
                specification=line.specification,
            )
            for line in lines
        ],
    )


__all__ = ["ProposalStatus", "create_proposal", "get_proposal", "read_proposal", "update_proposal"]
