"""The demo loader: a segment and a running three-step journey that moves contacts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import FrozenClock
from ema import demo
from ema.execution import advance_journeys
from ema.models import Campaign
from ema.outbox import OutboxMessage
from tests.ema import builders


def test_demo_runs_and_loads_once(
    session: Session, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    assert "running campaign" in demo.load(session, clock)
    assert demo.load(session, clock) == "ema: demo campaign already loaded"
    campaign = session.scalar(select(Campaign).where(Campaign.name == "Demo welcome journey"))
    assert campaign is not None
    assert campaign.status == "running"
    assert len(campaign.journey["steps"]) == 3
    builders.contact(session, clock, email="newcomer@x.io")
    session.flush()
    advance_journeys(session_factory, now=clock.now())
    steps = session.scalars(
        select(OutboxMessage.step_id).where(OutboxMessage.campaign_id == campaign.id)
    )
    assert list(steps) == ["welcome"]
