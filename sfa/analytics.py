"""Sales-cycle analytics per rep and per team, read with two Core selects.

- win rate: won / (won + lost) deals;
- average cycle: days from creation to closing, over won deals;
- average time per stage: days between entering a stage and the next move,
  from the stage-change log (the stage a deal is still in does not count);
- conversion between consecutive stages (open stages in order, then won):
  of the deals that reached stage A, the share that reached B; a deal
  "reached" a stage when it entered it or any later open or won stage;
- stuck deals: open deals whose current stage was entered more than
  `stuck_days` ago.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, User
from sfa.models import Team, TeamMember
from sfa.pipeline import list_stages
from sfa.pipeline_models import Opportunity, Stage, StageChange
from sfa.visibility import owner_filter

DAY = 86_400.0


class Conversion(BaseModel):
    from_stage: str
    to_stage: str
    reached_from: int
    reached_to: int
    rate: float | None


class Metrics(BaseModel):
    group_id: int | None = None
    group_name: str | None = None
    deals: int
    won: int
    lost: int
    win_rate: float | None
    avg_cycle_days: float | None
    avg_days_in_stage: dict[str, float]
    conversion: list[Conversion]
    stuck: int
    stuck_ids: list[int]


class Analytics(BaseModel):
    stuck_days: int
    total: Metrics
    by_rep: list[Metrics]
    by_team: list[Metrics]


@dataclass
class _Acc:
    deals: int = 0
    won: int = 0
    lost: int = 0
    cycle: list[float] = field(default_factory=list)
    in_stage: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    reached: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    stuck: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Deal:
    id: int
    owner_id: int | None
    kind: str
    created_at: datetime
    closed_at: datetime | None
    stage_entered_at: datetime


def sales_analytics(
    session: Session, *, actor: Principal, now: datetime, stuck_days: int = 30
) -> Analytics:
    """Analytics over the deals the caller may see."""
    stages = list_stages(session)
    ladder = [s for s in stages if s.kind == "open"] + [s for s in stages if s.kind == "won"]
    deals = _deals(session, actor)
    history = _history(session, actor)
    teams = {
        u: (t, n)
        for u, t, n in session.execute(
            select(TeamMember.user_id, Team.id, Team.name).join(Team, Team.id == TeamMember.team_id)
        )
    }
    names: dict[int, str] = {}
    for user_id, user_name in session.execute(select(User.id, User.name)):
        names[user_id] = user_name
    total = _Acc()
    reps: dict[int | None, _Acc] = defaultdict(_Acc)
    by_team: dict[int | None, _Acc] = defaultdict(_Acc)
    cutoff = now - timedelta(days=stuck_days)
    for deal in deals:
        team = teams.get(deal.owner_id, (None, None))[0] if deal.owner_id else None
        for acc in (total, reps[deal.owner_id], by_team[team]):
            _add(acc, deal, history.get(deal.id, []), ladder, cutoff)
    return Analytics(
        stuck_days=stuck_days,
        total=_metrics(total, stages, ladder),
        by_rep=[
            _metrics(acc, stages, ladder, rep, names.get(rep) if rep else None)
            for rep, acc in sorted(reps.items(), key=lambda kv: kv[0] or 0)
        ],
        by_team=[
            _metrics(acc, stages, ladder, team, _team_name(teams, team))
            for team, acc in sorted(by_team.items(), key=lambda kv: kv[0] or 0)
        ],
    )


def _team_name(teams: dict[int, tuple[int, str]], team: int | None) -> str | None:
    return next((n for t, n in teams.values() if t == team), None)


def _deals(session: Session, actor: Principal) -> list[_Deal]:
    query = (
        select(
            Opportunity.id,
            Opportunity.owner_id,
            Stage.kind,
            Opportunity.created_at,
            Opportunity.closed_at,
            Opportunity.stage_entered_at,
        )
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(Opportunity.deleted_at.is_(None), owner_filter(actor, Opportunity.owner_id))
    )
    return [_Deal(*row) for row in session.execute(query)]


def _history(session: Session, actor: Principal) -> dict[int, list[tuple[int, datetime]]]:
    query = (
        select(StageChange.opportunity_id, StageChange.to_stage_id, StageChange.changed_at)
        .join(Opportunity, Opportunity.id == StageChange.opportunity_id)
        .where(Opportunity.deleted_at.is_(None), owner_filter(actor, Opportunity.owner_id))
        .order_by(StageChange.opportunity_id, StageChange.changed_at, StageChange.id)
    )
    out: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    for opp, stage, at in session.execute(query):
        out[opp].append((stage, at))
    return out


def _add(
    acc: _Acc,
    deal: _Deal,
    steps: list[tuple[int, datetime]],
    ladder: list[Stage],
    cutoff: datetime,
) -> None:
    acc.deals += 1
    if deal.kind == "won":
        acc.won += 1
        if deal.closed_at is not None:
            acc.cycle.append((deal.closed_at - deal.created_at).total_seconds() / DAY)
    elif deal.kind == "lost":
        acc.lost += 1
    elif deal.stage_entered_at < cutoff:
        acc.stuck.append(deal.id)
    for (stage, entered), (_, left) in itertools.pairwise(steps):
        acc.in_stage[stage].append((left - entered).total_seconds() / DAY)
    rank = {s.id: i for i, s in enumerate(ladder)}  # a handful of stages: cheap
    highest = max((rank[s] for s, _ in steps if s in rank), default=-1)
    for i in range(highest + 1):
        acc.reached[ladder[i].id] += 1


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _metrics(
    acc: _Acc,
    stages: list[Stage],
    ladder: list[Stage],
    group_id: int | None = None,
    group_name: str | None = None,
) -> Metrics:
    closed = acc.won + acc.lost
    conversion = [
        Conversion(
            from_stage=a.name,
            to_stage=b.name,
            reached_from=acc.reached[a.id],
            reached_to=acc.reached[b.id],
            rate=round(acc.reached[b.id] / acc.reached[a.id], 6) if acc.reached[a.id] else None,
        )
        for a, b in itertools.pairwise(ladder)
    ]
    in_stage = {s.name: _mean(acc.in_stage[s.id]) for s in stages if acc.in_stage.get(s.id)}
    return Metrics(
        group_id=group_id,
        group_name=group_name,
        deals=acc.deals,
        won=acc.won,
        lost=acc.lost,
        win_rate=round(acc.won / closed, 6) if closed else None,
        avg_cycle_days=_mean(acc.cycle),
        avg_days_in_stage={k: v for k, v in in_stage.items() if v is not None},
        conversion=conversion,
        stuck=len(acc.stuck),
        stuck_ids=sorted(acc.stuck)[:100],
    )
