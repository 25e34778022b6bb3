"""Segment rule trees: validation, every error naming its rule path.

The shape of a tree is described in `ema.segments` (which compiles it to
SQL); this module checks a tree before it is stored: groups, field rules
(and which operators apply to which field kinds), behaviour, opportunity and
list rules, and the rules other packages install (`EXTERNAL_RULES`, filled
by api/wiring.py through `install_external_rules`). Errors name their path,
e.g. `rules.all[1].any[0].op`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.orm import Session

from core.errors import InvalidInput, InvalidInputs

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
        return None if parse_time(value) else "must be an ISO 8601 date-time with a zone"
    ok = isinstance(value, str | int | float | bool)
    return None if ok else "must be a string, number or boolean"


def parse_time(value: Any) -> datetime | None:
    """An aware ISO 8601 date-time, or None (segment time values, journey `until`)."""
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
