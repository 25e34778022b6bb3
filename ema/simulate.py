"""Dry run of a campaign: how many contacts reach each step and channel per day, the
cost, and the load on the call center, for the segment as it is today.

Expected values flow through the journey: a branch on a return splits by its
rate (the request's rates, else the defaults below), a contact-field branch
by the share of today's audience matching it (one COUNT), a split by its
weights, a send by the audience's preferred channels among those with content
(one GROUP BY). Flows below a hundredth of a contact or past the horizon stop.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.clock import Clock
from ema.audience import audience_condition
from ema.journey import CONVERSION_KIND, Journey, branch_kind, load_journey, parse_duration
from ema.schemas import CallCenterDay, SimulatedStep, SimulateRequest, SimulationRead
from ema.segment_rules import parse_time as journey_until
from ema.segments import RuleContext, compile_rules, count_query
from ema.service import get_campaign
from sfa.models import Contact

DEFAULT_RATES = {
    "email.opened": 0.25,
    "email.clicked": 0.04,
    "email.replied": 0.01,
    CONVERSION_KIND: 0.01,
}
FALLBACK_RATE = 0.05
MIN_FLOW = 0.01
MAX_VISITS = 5000


@dataclass
class Projection:
    """Expected contacts per (day, step, channel), accumulated while walking the journey."""

    journey: Journey
    horizon: int
    rates: dict[str, float]
    audience: int
    preferred: dict[str | None, int]
    condition_share: dict[str, float]
    cells: dict[tuple[int, str, str | None], float] = field(
        default_factory=lambda: defaultdict(float)
    )
    visits: int = 0

    def rate(self, kind: str) -> float:
        return self.rates.get(kind, DEFAULT_RATES.get(kind, FALLBACK_RATE))

    def add(self, t: float, step: dict[str, Any], channel: str | None, amount: float) -> None:
        self.cells[(int(t), step["id"], channel)] += amount


def simulate_campaign(
    session: Session, campaign_id: int, data: SimulateRequest, *, clock: Clock
) -> SimulationRead:
    """Project the campaign over `data.days` days from its start (or today)."""
    campaign = get_campaign(session, campaign_id)
    now = clock.now()
    start = campaign.start_at if campaign.start_at and campaign.start_at > now else now
    condition = audience_condition(session, campaign.segment_id, now)
    audience = int(session.scalar(count_query(condition)) or 0)
    journey = load_journey(campaign.journey)
    projection = Projection(
        journey=journey,
        horizon=data.days,
        rates=dict(data.rates),
        audience=audience,
        preferred=_preferred_channels(session, condition),
        condition_share=_condition_shares(session, journey, condition, audience, now),
    )
    if audience:
        _flow(projection, journey.start, 0.0, float(audience), start)
    return _result(campaign_id, campaign, projection, start, data)


def _preferred_channels(session: Session, condition: Any) -> dict[str | None, int]:
    rows = session.execute(
        select(Contact.preferred_channel, func.count())
        .where(condition)
        .group_by(Contact.preferred_channel)
    ).all()
    return {channel: int(n) for channel, n in rows}


def _condition_shares(
    session: Session, journey: Journey, condition: Any, audience: int, now: datetime
) -> dict[str, float]:
    shares: dict[str, float] = {}
    for step in journey.steps.values():
        if step["type"] == "branch" and "condition" in step and audience:
            branch = compile_rules(step["condition"], RuleContext(now=now))
            matched = session.scalar(count_query(and_(condition, branch))) or 0
            shares[step["id"]] = int(matched) / audience
    return shares


def _flow(p: Projection, step_id: str | None, t: float, amount: float, start: datetime) -> None:
    p.visits += 1
    if step_id is None or amount < MIN_FLOW or t >= p.horizon or p.visits > MAX_VISITS:
        return
    step = p.journey.step(step_id)
    kind = step["type"]
    if kind == "wait":
        _flow(p, step.get("next"), _after_wait(step, t, start), amount, start)
    elif kind == "send":
        for channel, share in _channel_shares(p, step["content"]).items():
            p.add(t, step, channel, amount * share)
        _flow(p, step.get("next"), t, amount, start)
    elif kind in ("call", "task"):
        p.add(t, step, "phone" if kind == "call" else None, amount)
        _flow(p, step.get("next"), t, amount, start)
    else:
        p.add(t, step, None, amount)
        for target, share in _outcomes(p, step):
            _flow(p, target, t, amount * share, start)


def _after_wait(step: dict[str, Any], t: float, start: datetime) -> float:
    if "until" in step:
        until = journey_until(step["until"]) or start
        return max(t, (until - start) / timedelta(days=1))
    delta = parse_duration(step["duration"]) or timedelta(0)
    return t + delta / timedelta(days=1)


def _outcomes(p: Projection, step: dict[str, Any]) -> list[tuple[str | None, float]]:
    if step["type"] == "split":
        total = sum(v["weight"] for v in step["variants"])
        return [(v.get("next"), v["weight"] / total) for v in step["variants"]]
    if step["type"] == "goal":
        return [(step.get("next"), 1 - p.rate(step.get("on", CONVERSION_KIND)))]
    kind = branch_kind(step)
    share = p.rate(kind) if kind else p.condition_share.get(step["id"], 0.0)
    return [(step["then"], share), (step.get("else"), 1 - share)]


def _channel_shares(p: Projection, content: dict[str, Any]) -> dict[str, float]:
    """Each contact on its preferred channel when the send has content for it, else the first."""
    channels = list(content)
    total = sum(p.preferred.values()) or 1
    shares: dict[str, float] = defaultdict(float)
    for preferred, count in p.preferred.items():
        target = preferred if preferred in channels else channels[0]
        shares[target] += count / total
    return dict(shares) or {channels[0]: 1.0}


def _result(
    campaign_id: int,
    campaign: Any,
    p: Projection,
    start: datetime,
    data: SimulateRequest,
) -> SimulationRead:
    costs = {k: float(v) for k, v in (campaign.channel_costs or {}).items()}
    days: list[SimulatedStep] = []
    per_step: dict[str, float] = defaultdict(float)
    per_channel: dict[str, float] = defaultdict(float)
    calls: dict[int, float] = defaultdict(float)
    for (day, step_id, channel), amount in sorted(p.cells.items(), key=_cell_order):
        date = (start + timedelta(days=day)).date().isoformat()
        step_type = p.journey.step(step_id)["type"]
        days.append(
            SimulatedStep(
                day=day,
                date=date,
                step_id=step_id,
                type=step_type,
                channel=channel,
                contacts=round(amount, 2),
            )
        )
        per_step[step_id] += amount
        if channel:
            per_channel[channel] += amount
        if channel == "phone":
            calls[day] += amount
    cost = {ch: round(n * costs.get(ch, 0.0), 2) for ch, n in per_channel.items()}
    total = round(sum(cost.values()), 2)
    budget = float(campaign.budget) if campaign.budget is not None else None
    return SimulationRead(
        campaign_id=campaign_id,
        audience=p.audience,
        days=days,
        per_step={k: round(v, 2) for k, v in per_step.items()},
        per_channel={k: round(v, 2) for k, v in per_channel.items()},
        cost_per_channel=cost,
        total_cost=total,
        budget=budget,
        over_budget=budget is not None and total > budget,
        call_center=[
            CallCenterDay(
                date=(start + timedelta(days=day)).date().isoformat(),
                calls=round(n, 2),
                operator_hours=round(n * data.call_minutes / 60, 2),
            )
            for day, n in sorted(calls.items())
        ],
        rates={**DEFAULT_RATES, **p.rates},
    )


def _cell_order(item: tuple[tuple[int, str, str | None], float]) -> tuple[int, str, str]:
    (day, step_id, channel), _ = item
    return day, step_id, channel or ""
