"""Segment rule trees: compilation to ONE SQL query (validation: `ema.segment_rules`).

A tree is made of groups `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` and
leaves: a field rule `{"field": "country", "op": "eq", "value": "ES"}` (contact
columns, or `attributes.NAME` for custom attributes read with JSON extraction
that works on SQLite and PostgreSQL), a behaviour rule over returns
`{"event": "email.clicked", "campaign_id": 3, "within_days": 30, "min_count": 1}`,
an opportunity rule `{"opportunity": {"stage": "Proposal", "within_days": 30}}`
(or `"kind": "won"`) over SFA's pipeline, or a list rule `{"in_segment": 4}`
(members of a static list). Other packages' rules (EMA may not import them),
e.g. `{"configuration": {"product": "ebike", "status": "abandoned"}}`, come
from `EXTERNAL_RULES`, which api/wiring.py fills (`install_external_rules`).
Every error names its path, e.g. `rules.all[1].any[0].op`. Nothing is
evaluated in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from core.db import json_number
from core.errors import InvalidInput
from ema.models import StaticListMember
from ema.returns import Return
from ema.segment_rules import EXTERNAL_RULES, ORDER_OPS, Rules, field_kind, parse_time
from sfa.models import Contact
from sfa.pipeline_models import Opportunity, Stage


@dataclass(frozen=True)
class RuleContext:
    """What compilation needs besides the tree: the time (for `within_*_days`)."""

    now: datetime


# ---------------------------------------------------------------- compilation

LIVE_CONTACT = and_(Contact.merged_into_id.is_(None), Contact.deleted_at.is_(None))


def compile_rules(rules: Rules, ctx: RuleContext) -> ColumnElement[bool]:
    """The WHERE condition over `sfa_contacts` for a validated rule tree."""
    if "all" in rules:
        return and_(true(), *(compile_rules(r, ctx) for r in rules["all"]))
    if "any" in rules:
        return or_(false(), *(compile_rules(r, ctx) for r in rules["any"]))
    if "not" in rules:
        # NULL-safe: "not country = ES" includes contacts without a country.
        inner = func.coalesce(compile_rules(rules["not"], ctx), false(), type_=Boolean)
        return not_(inner)
    if "event" in rules:
        return _event_condition(rules, ctx)
    if "opportunity" in rules:
        return _opportunity_condition(rules["opportunity"], ctx)
    if "in_segment" in rules:
        return exists().where(
            StaticListMember.segment_id == rules["in_segment"],
            StaticListMember.contact_id == Contact.id,
        )
    if "field" not in rules:
        (key,) = rules
        if key not in EXTERNAL_RULES:  # a process that did not install api.wiring's rules
            raise InvalidInput("rules", f"rule kind {key!r} is not installed")
        return Contact.id.in_(EXTERNAL_RULES[key].contact_ids(rules[key], ctx.now))
    return _field_condition(rules, ctx)


def _column(name: str, value: Any) -> Any:
    """The contact column, or the JSON attribute read as the type of `value`."""
    if not name.startswith("attributes."):
        return getattr(Contact, name)
    element: Any = Contact.attributes[name.removeprefix("attributes.")]
    sample = value[0] if isinstance(value, list) and value else value
    if isinstance(sample, bool):
        return element.as_boolean()
    if isinstance(sample, int | float):
        return json_number(Contact.attributes, name.removeprefix("attributes."))
    return element.as_string()


def _field_condition(rule: Rules, ctx: RuleContext) -> ColumnElement[bool]:
    name: str = rule["field"]
    op: str = rule["op"]
    value: Any = rule.get("value")
    if field_kind(name) == "time" and op in ORDER_OPS:
        value = [parse_time(v) for v in value] if op == "between" else parse_time(value)
    column = _column(name, None if op == "is_null" else value)
    if op == "within_last_days":
        since = ctx.now - timedelta(days=value)
        bound: Any = since if field_kind(name) == "time" else since.isoformat()
        condition: ColumnElement[bool] = column >= bound
        return condition
    return _BUILDERS[op](column, value, ctx)


def _is_null(column: Any, value: Any, _ctx: RuleContext) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column.is_(None) if value is not False else column.is_not(None)
    return condition


_BUILDERS: dict[str, Callable[[Any, Any, RuleContext], ColumnElement[bool]]] = {
    "eq": lambda c, v, _: c == v,
    "ne": lambda c, v, _: or_(c != v, c.is_(None)),
    "in": lambda c, v, _: c.in_(v),
    "not_in": lambda c, v, _: or_(c.not_in(v), c.is_(None)),
    "gt": lambda c, v, _: c > v,
    "gte": lambda c, v, _: c >= v,
    "lt": lambda c, v, _: c < v,
    "lte": lambda c, v, _: c <= v,
    "between": lambda c, v, _: c.between(v[0], v[1]),
    "contains": lambda c, v, _: c.contains(v, autoescape=True),
    "starts_with": lambda c, v, _: c.startswith(v, autoescape=True),
    "is_null": _is_null,
}


def _event_condition(rule: Rules, ctx: RuleContext) -> ColumnElement[bool]:
    where = [Return.contact_id == Contact.id, Return.kind == rule["event"], ~Return.is_machine]
    if "campaign_id" in rule:
        where.append(Return.campaign_id == rule["campaign_id"])
    if "within_days" in rule:
        where.append(Return.occurred_at >= ctx.now - timedelta(days=rule["within_days"]))
    min_count = rule.get("min_count", 1)
    if min_count == 1:
        return exists().where(*where)
    counted = select(func.count(Return.id)).where(*where).correlate(Contact).scalar_subquery()
    condition: ColumnElement[bool] = counted >= min_count
    return condition


def _opportunity_condition(rule: Rules, ctx: RuleContext) -> ColumnElement[bool]:
    """EXISTS a live opportunity of the contact in the stage(s) / stage kind asked for."""
    where = [
        Opportunity.contact_id == Contact.id,
        Opportunity.deleted_at.is_(None),
        Stage.id == Opportunity.stage_id,
    ]
    if "stage" in rule:
        stage = rule["stage"]
        where.append(Stage.name.in_(stage if isinstance(stage, list) else [stage]))
    if "kind" in rule:
        where.append(Stage.kind == rule["kind"])
    if "within_days" in rule:
        since = ctx.now - timedelta(days=rule["within_days"])
        where.append(Opportunity.stage_entered_at >= since)
    return exists().where(*where)


def segment_condition(rules: Rules, ctx: RuleContext) -> ColumnElement[bool]:
    """Live contacts matching `rules`."""
    return and_(LIVE_CONTACT, compile_rules(rules, ctx))


def static_condition(segment_id: int) -> ColumnElement[bool]:
    """Live contacts on the static list `segment_id`."""
    return and_(LIVE_CONTACT, compile_rules({"in_segment": segment_id}, RuleContext(now=_EPOCH)))


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def count_query(condition: ColumnElement[bool]) -> Select[Any]:
    return select(func.count()).select_from(Contact).where(condition)


def explain_nodes(rules: Rules, root: str = "rules") -> list[tuple[str, Rules]]:
    """Every node of the tree with its path, parents first."""
    nodes: list[tuple[str, Rules]] = [(root, rules)]
    for key in ("all", "any"):
        for index, child in enumerate(rules.get(key, ())):
            nodes += explain_nodes(child, f"{root}.{key}[{index}]")
    if "not" in rules:
        nodes += explain_nodes(rules["not"], f"{root}.not")
    return nodes


def preview_query(rules: Rules, ctx: RuleContext) -> tuple[list[str], Select[Any]]:
    """One scan counting, for every node, the live contacts its own condition matches."""
    nodes = explain_nodes(rules)
    sums = [
        func.coalesce(func.sum(case((compile_rules(node, ctx), 1), else_=0)), 0)
        for _, node in nodes
    ]
    query = select(func.count(), *sums).select_from(Contact).where(LIVE_CONTACT)
    return [path for path, _ in nodes], query
