"""Segment rule trees: validation with rule paths, and compilation to ONE SQL query.

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

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

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
from sqlalchemy.orm import Session

from core.db import json_number
from core.errors import InvalidInput, InvalidInputs
from ema.models import StaticListMember
from ema.returns import Return
from sfa.models import Contact
from sfa.pipeline_models import Opportunity, Stage

STRING_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "time_zone",
    "language",
    "preferred_channel",
    "job_title",
    "source",
    "postal_address",
)
INT_FIELDS = ("id", "owner_id", "account_id")
TIME_FIELDS = ("created_at", "updated_at")

EQUALITY_OPS = frozenset({"eq", "ne", "in", "not_in", "is_null"})
ORDER_OPS = frozenset({"gt", "gte", "lt", "lte", "between"})
TEXT_OPS = frozenset({"contains", "starts_with"})
ALL_OPS = EQUALITY_OPS | ORDER_OPS | TEXT_OPS | {"within_last_days"}
OPS_BY_KIND: dict[str, frozenset[str]] = {
    "string": EQUALITY_OPS | TEXT_OPS,
    "int": EQUALITY_OPS | ORDER_OPS,
    "time": frozenset({"is_null", "within_last_days"}) | ORDER_OPS,
    "attribute": ALL_OPS,
}
MAX_DEPTH = 12

Rules = dict[str, Any]


class ExternalRule(Protocol):
    """A leaf rule `{KEY: {...}}` another package compiles to a SELECT of contact ids."""

    def problems(self, rule: Any, path: str) -> list[InvalidInput]: ...
    def unknown_refs(self, session: Session, rule: Any, path: str) -> list[InvalidInput]: ...
    def contact_ids(self, rule: Mapping[str, Any], now: datetime) -> Select[Any]: ...


EXTERNAL_RULES: dict[str, ExternalRule] = {}
"""Rule key -> its compiler; filled by api/wiring.py at start-up."""


def install_external_rules(rules: Mapping[str, ExternalRule]) -> None:
    """Make exactly these external rule kinds known (replacing any before)."""
    EXTERNAL_RULES.clear()
    EXTERNAL_RULES.update(rules)


@dataclass(frozen=True)
class RuleContext:
    """What compilation needs besides the tree: the time (for `within_*_days`)."""

    now: datetime


ATTRIBUTE_NAME = re.compile(r"attributes\.[A-Za-z0-9_-]{1,64}")
"""Custom attribute names that are safe inside a JSON path on every database."""


def field_kind(name: str) -> str | None:
    if name in STRING_FIELDS:
        return "string"
    if name in INT_FIELDS:
        return "int"
    if name in TIME_FIELDS:
        return "time"
    if ATTRIBUTE_NAME.fullmatch(name):
        return "attribute"
    return None


# ---------------------------------------------------------------- validation


def validate_rules(rules: Any, *, root: str = "rules") -> None:
    """Raise InvalidInputs naming every bad rule's path; return quietly when valid."""
    errors: list[InvalidInput] = []
    _check_node(rules, root, errors, 0)
    if errors:
        raise InvalidInputs(errors)


def _check_node(node: Any, path: str, errors: list[InvalidInput], depth: int) -> None:
    if not isinstance(node, dict):
        errors.append(InvalidInput(path, "a rule must be an object"))
        return
    if depth > MAX_DEPTH:
        errors.append(InvalidInput(path, f"rules nest deeper than {MAX_DEPTH} levels"))
        return
    groups = [k for k in ("all", "any", "not") if k in node]
    if groups:
        _check_group(node, groups, path, errors, depth)
    elif "field" in node:
        _check_field_rule(node, path, errors)
    elif "event" in node:
        _check_event_rule(node, path, errors)
    elif "in_segment" in node:
        _check_int(node, "in_segment", path, errors, minimum=1)
    elif "opportunity" in node:
        _check_opportunity_rule(node, path, errors)
    elif external := [k for k in node if k in EXTERNAL_RULES]:
        _check_external_rule(node, external[0], path, errors)
    else:
        known = ", ".join(("field", "event", "opportunity", "in_segment", *EXTERNAL_RULES))
        errors.append(InvalidInput(path, f"expected one of all, any, not, {known}"))


def _check_external_rule(node: Rules, key: str, path: str, errors: list[InvalidInput]) -> None:
    if len(node) != 1:
        errors.append(InvalidInput(path, f"a {key!r} rule takes no other keys"))
        return
    errors.extend(EXTERNAL_RULES[key].problems(node[key], f"{path}.{key}"))


def _check_group(
    node: Rules, groups: list[str], path: str, errors: list[InvalidInput], depth: int
) -> None:
    key = groups[0]
    if len(node) != 1:
        errors.append(InvalidInput(path, f"a {key!r} group takes no other keys"))
        return
    if key == "not":
        _check_node(node["not"], f"{path}.not", errors, depth + 1)
        return
    children = node[key]
    if not isinstance(children, list) or not children:
        errors.append(InvalidInput(f"{path}.{key}", "must be a non-empty list of rules"))
        return
    for index, child in enumerate(children):
        _check_node(child, f"{path}.{key}[{index}]", errors, depth + 1)


def _check_field_rule(node: Rules, path: str, errors: list[InvalidInput]) -> None:
    name = node.get("field")
    kind = field_kind(name) if isinstance(name, str) else None
    if kind is None:
        errors.append(InvalidInput(f"{path}.field", f"unknown field {name!r}"))
        return
    op = node.get("op")
    if op not in ALL_OPS:
        errors.append(InvalidInput(f"{path}.op", f"unknown operator {op!r}"))
        return
    if op not in OPS_BY_KIND[kind]:
        errors.append(InvalidInput(f"{path}.op", f"operator {op!r} does not apply to {name!r}"))
        return
    reason = _value_problem(op, kind, node.get("value"), "value" in node)
    if reason:
        errors.append(InvalidInput(f"{path}.value", reason))


def _value_problem(op: str, kind: str, value: Any, present: bool) -> str | None:
    if op == "is_null":
        return None if isinstance(value, bool) or not present else "must be true or false"
    if not present:
        return "is required"
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return "must be a non-empty list"
        problems = [_scalar_problem(kind, v) for v in value]
        return next((p for p in problems if p), None)
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            return "must be a list of two bounds [low, high]"
        return _scalar_problem(kind, value[0]) or _scalar_problem(kind, value[1])
    if op == "within_last_days":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else "must be a whole number of days >= 0"
    if op in TEXT_OPS:
        return None if isinstance(value, str) and value else "must be a non-empty string"
    return _scalar_problem(kind, value)


def _scalar_problem(kind: str, value: Any) -> str | None:
    if kind == "string":
        return None if isinstance(value, str) else "must be a string"
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "must be an integer"
    if kind == "time":
        return None if _parse_time(value) else "must be an ISO 8601 date-time with a zone"
    ok = isinstance(value, str | int | float | bool)
    return None if ok else "must be a string, number or boolean"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _check_event_rule(node: Rules, path: str, errors: list[InvalidInput]) -> None:
    allowed = {"event", "campaign_id", "within_days", "min_count"}
    for key in sorted(set(node) - allowed):
        errors.append(InvalidInput(f"{path}.{key}", "unknown key of an event rule"))
    event = node.get("event")
    if not isinstance(event, str) or "." not in event:
        errors.append(InvalidInput(f"{path}.event", "must be a dotted kind like email.clicked"))
    for key, minimum in (("campaign_id", 1), ("within_days", 0), ("min_count", 1)):
        if key in node:
            _check_int(node, key, path, errors, minimum=minimum)


OPPORTUNITY_KINDS = ("open", "won", "lost")


def _check_opportunity_rule(node: Rules, path: str, errors: list[InvalidInput]) -> None:
    rule = node["opportunity"]
    where = f"{path}.opportunity"
    if len(node) != 1 or not isinstance(rule, dict):
        errors.append(InvalidInput(where, "must be an object: {stage, kind, within_days}"))
        return
    for key in sorted(set(rule) - {"stage", "kind", "within_days"}):
        errors.append(InvalidInput(f"{where}.{key}", "unknown key of an opportunity rule"))
    if "stage" not in rule and "kind" not in rule:
        errors.append(InvalidInput(where, "needs a stage (name or list of names) or a kind"))
    stage = rule.get("stage", "x")
    names = stage if isinstance(stage, list) else [stage]
    if not names or not all(isinstance(n, str) and n for n in names):
        errors.append(InvalidInput(f"{where}.stage", "must be a stage name or a list of names"))
    if rule.get("kind", "open") not in OPPORTUNITY_KINDS:
        errors.append(InvalidInput(f"{where}.kind", f"must be one of {OPPORTUNITY_KINDS}"))
    if "within_days" in rule:
        _check_int(rule, "within_days", where, errors, minimum=0)


def _check_int(
    node: Rules, key: str, path: str, errors: list[InvalidInput], *, minimum: int
) -> None:
    value = node.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        errors.append(InvalidInput(f"{path}.{key}", f"must be an integer >= {minimum}"))


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
        value = [_parse_time(v) for v in value] if op == "between" else _parse_time(value)
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
