"""Forecasts per month or quarter and per rep or team: one grouped Core select.

Each deal falls in the period of its close date: the day it was won or
lost, else its expected close date (open deals without one are
`unscheduled`). Per bucket and currency:

- pipeline: amounts of open deals;
- weighted: amount x stage probability over open and won deals (lost count zero);
- committed: amounts of open deals at or above `COMMIT_PROBABILITY`;
- closed_won: amounts of won deals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Integer, String, case, cast, func, literal, select
from sqlalchemy.orm import Session

from core.auth import Principal, User
from sfa.models import Team, TeamMember
from sfa.pipeline_models import Opportunity, Stage
from sfa.visibility import owner_filter

COMMIT_PROBABILITY = 70
CENT = Decimal("0.01")


class Period(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


class GroupBy(StrEnum):
    REP = "rep"
    TEAM = "team"


class Bucket(BaseModel):
    period: str
    group_id: int | None
    group_name: str | None
    currency: str
    deals: int
    pipeline: Decimal
    weighted: Decimal
    committed: Decimal
    closed_won: Decimal


class Forecast(BaseModel):
    period: Period
    group_by: GroupBy
    commit_probability: int
    buckets: list[Bucket]


def period_key(session: Session, column: Any, period: Period) -> ColumnElement[str]:
    """'2026-03' or '2026-Q1' for a DATE column, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        fmt = "YYYY-MM" if period is Period.MONTH else 'YYYY-"Q"Q'
        return func.to_char(column, fmt)
    if period is Period.MONTH:
        return func.strftime("%Y-%m", column)
    quarter = (cast(func.strftime("%m", column), Integer) + 2) // 3
    year = func.strftime("%Y", column, type_=String)
    return year.concat("-Q").concat(cast(quarter, String))


def minor_to_money(minor: int | Decimal | None, scale: int = 100) -> Decimal:
    return (Decimal(minor or 0) / scale).quantize(CENT, rounding=ROUND_HALF_EVEN)


def forecast(session: Session, *, actor: Principal, period: Period, group_by: GroupBy) -> Forecast:
    """The forecast of the deals the caller may see."""
    when = func.coalesce(Opportunity.closed_on, Opportunity.expected_close)
    key = func.coalesce(period_key(session, when, period), literal("unscheduled")).label("p")
    amount, prob, kind = Opportunity.amount_minor, Stage.probability, Stage.kind
    if group_by is GroupBy.REP:
        group_id, group_name = Opportunity.owner_id, User.name
    else:
        group_id, group_name = TeamMember.team_id, Team.name
    query = (
        select(
            key,
            group_id.label("gid"),
            group_name.label("gname"),
            Opportunity.currency,
            func.count(),
            func.sum(case((kind == "open", amount), else_=0)),
            func.sum(case((kind != "lost", amount * prob), else_=0)),
            func.sum(case(((kind == "open") & (prob >= COMMIT_PROBABILITY), amount), else_=0)),
            func.sum(case((kind == "won", amount), else_=0)),
        )
        .join(Stage, Stage.id == Opportunity.stage_id)
        .where(Opportunity.deleted_at.is_(None), owner_filter(actor, Opportunity.owner_id))
    )
    if group_by is GroupBy.REP:
        query = query.outerjoin(User, User.id == Opportunity.owner_id)
    else:
        query = query.outerjoin(TeamMember, TeamMember.user_id == Opportunity.owner_id).outerjoin(
            Team, Team.id == TeamMember.team_id
        )
    query = query.group_by(key, group_id, group_name, Opportunity.currency).order_by(
        key, group_id, Opportunity.currency
    )
    buckets = [
        Bucket(
            period=p,
            group_id=gid,
            group_name=gname,
            currency=cur,
            deals=n,
            pipeline=minor_to_money(pipe),
            weighted=minor_to_money(w, 10_000),
            committed=minor_to_money(com),
            closed_won=minor_to_money(won),
        )
        for p, gid, gname, cur, n, pipe, w, com, won in session.execute(query)
    ]
    return Forecast(
        period=period, group_by=group_by, commit_probability=COMMIT_PROBABILITY, buckets=buckets
    )
