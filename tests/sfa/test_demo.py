"""The SFA demo loads on top of the core demo, through the real import path, once."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import demo as core_demo
from core.clock import FrozenClock
from sfa import demo
from sfa.pipeline_models import Opportunity, StageChange


def test_demo_is_realistic_and_idempotent(session: Session, clock: FrozenClock) -> None:
    assert demo.load(session, clock) == "sfa: core demo people missing; nothing loaded"
    core_demo.load(session, clock)
    summary = demo.load(session, clock)
    assert "200 contacts" in summary
    assert "300 opportunities" in summary
    changes = session.scalar(select(func.count()).select_from(StageChange))
    assert changes is not None
    assert changes > 300
    first = session.scalar(select(func.min(Opportunity.created_at)))
    assert first is not None
    assert (clock.now() - first).days > 300
    assert demo.load(session, clock) == "sfa: demo already loaded"
