"""Reactions to SFA events: contact merges re-point EMA rows; won deals become conversions."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.auth import SYSTEM
from core.clock import FrozenClock
from core.events import publish
from ema import service
from ema.execution import advance_journeys
from ema.models import Enrolment
from ema.outbox import OutboxMessage
from ema.returns import Return
from sfa import opportunities
from sfa.events import OpportunityWon
from sfa.merge import merge_contacts
from sfa.pipeline_schemas import OpportunityCreate
from tests.ema import builders


def test_merge_moves_enrolments_outbox_and_returns(
    session: Session, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    keep, dup, solo = builders.contacts(session, clock, 3, country="ES")
    tpl = builders.templates(session, clock)
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "ES"})
    journey = builders.journey(builders.send("s1", {"email": tpl["email"]}))
    campaign = builders.campaign(session, clock, segment.id, journey)
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    advance_journeys(session_factory, now=clock.now())
    session.add(
        Return(
            contact_id=dup,
            campaign_id=campaign.id,
            kind="email.opened",
            occurred_at=clock.now(),
            detail={},
        )
    )
    session.flush()
    merge_contacts(session, keep, dup, actor=SYSTEM, clock=clock)
    session.expire_all()
    enrolled = session.scalars(
        select(Enrolment.contact_id).where(Enrolment.campaign_id == campaign.id)
    )
    assert sorted(enrolled) == sorted([keep, solo])
    rows = session.execute(
        select(OutboxMessage.contact_id, OutboxMessage.state).where(
            OutboxMessage.campaign_id == campaign.id
        )
    ).all()
    assert sorted(rows) == sorted([(keep, "pending"), (dup, "skipped"), (solo, "pending")])
    assert session.scalar(select(Return.contact_id).where(Return.kind == "email.opened")) == keep


def test_opportunity_won_is_a_conversion_once(session: Session, clock: FrozenClock) -> None:
    contact = builders.contact(session, clock, email="buyer@x.io")
    event = OpportunityWon(
        opportunity_id=5,
        contact_id=contact,
        source_campaign_id=9,
        amount_minor=12000,
        currency="EUR",
    )
    publish(session, event)
    publish(session, event)
    publish(
        session,
        OpportunityWon(
            opportunity_id=6,
            contact_id=contact,
            source_campaign_id=None,
            amount_minor=1,
            currency="EUR",
        ),
    )
    rows = session.execute(select(Return.campaign_id, Return.kind, Return.detail)).all()
    assert [(r.campaign_id, r.kind, r.detail["amount_minor"]) for r in rows] == [
        (9, "contact.converted", 12000)
    ]


def test_a_deal_won_in_sfa_converts_the_contact_for_its_campaign(
    session: Session, clock: FrozenClock
) -> None:
    contact = builders.contact(session, clock, email="deal@x.io")
    data = OpportunityCreate(
        name="big", contact_id=contact, stage="Won", amount=Decimal(50), source_campaign_id=77
    )
    opportunities.create_opportunity(session, data, actor=SYSTEM, clock=clock)
    kinds = session.execute(select(Return.campaign_id, Return.contact_id, Return.kind)).all()
    assert [tuple(k) for k in kinds] == [(77, contact, "contact.converted")]
