"""The dry run: expected contacts per day, step and channel; cost; call-center load."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from ema.schemas import SimulateRequest
from ema.simulate import simulate_campaign
from tests.ema import builders


def test_projection_follows_waits_branches_splits_and_calls(
    session: Session, clock: FrozenClock
) -> None:
    builders.contacts(session, clock, 6, tag="e", country="ES", preferred_channel="email")
    builders.contacts(
        session, clock, 4, tag="s", country="ES", preferred_channel="sms", language="ca"
    )
    tpl = builders.templates(session, clock)
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "ES"})
    journey = builders.journey(
        builders.send("s1", {"email": tpl["email"], "sms": tpl["sms"]}, "w1"),
        {"id": "w1", "type": "wait", "duration": "P2D", "next": "b1"},
        {"id": "b1", "type": "branch", "on": "opened", "then": "x1", "else": "c1"},
        {
            "id": "x1",
            "type": "split",
            "variants": [
                {"name": "A", "weight": 1, "next": "f1"},
                {"name": "B", "weight": 3, "next": None},
            ],
        },
        {
            "id": "f1",
            "type": "branch",
            "condition": {"field": "language", "op": "eq", "value": "ca"},
            "then": "c1",
        },
        {"id": "c1", "type": "call"},
    )
    costs = {"email": Decimal("0.01"), "sms": Decimal("0.10"), "phone": Decimal("2")}
    campaign = builders.campaign(
        session, clock, segment.id, journey, channel_costs=costs, budget=10
    )
    result = simulate_campaign(
        session, campaign.id, SimulateRequest(days=10, rates={"email.opened": 0.5}), clock=clock
    )
    assert result.audience == 10
    assert result.per_channel["email"] == pytest.approx(6)
    assert result.per_channel["sms"] == pytest.approx(4)
    # calls: 5 not opened + 5 opened * 1/4 variant A * 40% Catalan speakers = 5.5, on day 2
    assert result.per_step["c1"] == pytest.approx(5.5)
    assert [(d.date, d.calls) for d in result.call_center] == [("2026-03-04", 5.5)]
    assert result.call_center[0].operator_hours == pytest.approx(5.5 * 6 / 60)
    assert result.total_cost == pytest.approx(6 * 0.01 + 4 * 0.10 + 5.5 * 2)
    assert result.over_budget is True
    assert {d.day for d in result.days if d.step_id == "s1"} == {0}
    short = simulate_campaign(session, campaign.id, SimulateRequest(days=1), clock=clock)
    assert "c1" not in short.per_step
