"""The native product model format (YAML or JSON), described by `native.schema.json`.

Errors name the path of the offending entry (`variables.frame.domain`,
`constraints[2].rule`) or, for YAML syntax, the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from configurator.expression import Expr, Value, parse
from configurator.model import (
    BomLine,
    Component,
    Constraint,
    Default,
    Need,
    NeedOption,
    NeedRule,
    PriceRule,
    ProductModel,
    Variable,
)
from core.errors import InvalidInput

SCHEMA_PATH = Path(__file__).with_name("native.schema.json")
TOP_LEVEL_KEYS = frozenset(
    {
        "product",
        "label",
        "version",
        "base_price",
        "variables",
        "constraints",
        "needs",
        "components",
        "bom",
        "description",
    }
)


def load_native_file(path: str | Path) -> ProductModel:
    return load_native(Path(path).read_text(encoding="utf-8"))


def load_native(text: str) -> ProductModel:
    """Parse and check a native model; raises InvalidInput naming the line or the path."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise InvalidInput(f"line {line}", str(exc.problem or exc)) from exc
    except yaml.YAMLError as exc:
        raise InvalidInput("document", str(exc)) from exc
    doc = _mapping(data, "document")
    unknown = sorted(set(doc) - TOP_LEVEL_KEYS)
    if unknown:
        raise InvalidInput(unknown[0], "unknown top-level key")
    return _build(doc).validate()


def _build(doc: Mapping[str, Any]) -> ProductModel:
    variables = [
        _variable(name, spec) for name, spec in _mapping(doc.get("variables"), "variables").items()
    ]
    domains = {v.name: v.domain for v in variables}
    var_specs = _mapping(doc.get("variables"), "variables")
    needs_doc = _mapping(doc.get("needs", {}), "needs")
    return ProductModel(
        name=_text(doc.get("product"), "product"),
        label=str(doc.get("label", "")),
        version=str(doc.get("version", "1")),
        base_price=_number(doc.get("base_price", 0), "base_price"),
        variables=tuple(variables),
        constraints=tuple(_constraints(doc.get("constraints", []), domains)),
        needs=tuple(_need(name, spec) for name, spec in needs_doc.items()),
        need_rules=tuple(_need_rules(needs_doc, domains)),
        defaults=tuple(
            Default(name, _value(spec["default"], domains[name], f"variables.{name}.default"))
            for name, spec in var_specs.items()
            if "default" in spec
        ),
        prices=tuple(_prices(var_specs, domains)),
        components=tuple(_components(doc.get("components", {}))),
        bom=tuple(_bom(doc.get("bom", []), domains)),
    )


def _variable(name: str, spec: Any) -> Variable:
    where = f"variables.{name}"
    body = _mapping(spec, where)
    domain = body.get("domain")
    if not isinstance(domain, list) or not domain:
        raise InvalidInput(f"{where}.domain", "a non-empty list of values is required")
    for value in domain:
        if not isinstance(value, str | int | float):
            raise InvalidInput(f"{where}.domain", f"{value!r} is not a scalar value")
    return Variable(name, tuple(domain), str(body.get("label", name)), str(body.get("help", "")))


def _constraints(items: Any, domains: Mapping[str, tuple[Value, ...]]) -> list[Constraint]:
    result = []
    for i, item in enumerate(_list(items, "constraints")):
        where = f"constraints[{i}]"
        body = _mapping(item, where)
        name = str(body.get("name", f"rule {i + 1}"))
        if "rule" in body:
            result.append(
                Constraint(
                    name, _expr(body["rule"], domains, f"{where}.rule"), source=str(body["rule"])
                )
            )
        elif "table" in body:
            result.append(_table(name, _mapping(body["table"], f"{where}.table"), domains, where))
        else:
            raise InvalidInput(where, "needs a 'rule' or a 'table'")
    return result


def _table(
    name: str, body: Mapping[str, Any], domains: Mapping[str, tuple[Value, ...]], where: str
) -> Constraint:
    scope = tuple(str(v) for v in _list(body.get("scope"), f"{where}.table.scope"))
    for var in scope:
        if var not in domains:
            raise InvalidInput(f"{where}.table.scope", f"unknown variable {var!r}")
    allowed = "allowed" in body
    rows = _list(body.get("allowed" if allowed else "forbidden"), f"{where}.table.allowed")
    tuples = []
    for j, row in enumerate(rows):
        cells = _list(row, f"{where}.table.rows[{j}]")
        if len(cells) != len(scope):
            raise InvalidInput(f"{where}.table.rows[{j}]", f"expected {len(scope)} values")
        tuples.append(
            tuple(
                _value(c, domains[v], f"{where}.table.rows[{j}]")
                for c, v in zip(cells, scope, strict=True)
            )
        )
    return Constraint(name, scope=scope, tuples=tuple(tuples), allowed=allowed)


def _need(name: str, spec: Any) -> Need:
    where = f"needs.{name}"
    body = _mapping(spec, where)
    options = _mapping(body.get("options"), f"{where}.options")
    return Need(
        name,
        tuple(
            NeedOption(
                str(key),
                str(_mapping(o or {}, f"{where}.options.{key}").get("label", key)),
                str((o or {}).get("help", "")),
            )
            for key, o in options.items()
        ),
        str(body.get("label", name)),
        str(body.get("help", "")),
    )


def _need_rules(
    needs: Mapping[str, Any], domains: Mapping[str, tuple[Value, ...]]
) -> list[NeedRule]:
    result: list[NeedRule] = []
    for name, spec in needs.items():
        rules = _mapping(spec.get("rules", {}), f"needs.{name}.rules")
        for answer, exprs in rules.items():
            where = f"needs.{name}.rules.{answer}"
            texts = exprs if isinstance(exprs, list) else [exprs]
            result.extend(
                NeedRule(name, str(answer), _expr(t, domains, where), str(t)) for t in texts
            )
    return result


def _prices(specs: Mapping[str, Any], domains: Mapping[str, tuple[Value, ...]]) -> list[PriceRule]:
    result = []
    for name, spec in specs.items():
        for raw, amount in _mapping(spec.get("prices", {}), f"variables.{name}.prices").items():
            where = f"variables.{name}.prices"
            result.append(
                PriceRule(name, _value(raw, domains[name], where), _number(amount, where))
            )
    return result


def _components(items: Any) -> list[Component]:
    result = []
    for cid, spec in _mapping(items, "components").items():
        body = _mapping(spec, f"components.{cid}")
        result.append(
            Component(
                str(cid),
                str(body.get("name", cid)),
                _number(body.get("price", 0), f"components.{cid}.price"),
                int(_number(body.get("lead_time_days", 0), f"components.{cid}.lead_time_days")),
            )
        )
    return result


def _bom(items: Any, domains: Mapping[str, tuple[Value, ...]]) -> list[BomLine]:
    result = []
    for i, item in enumerate(_list(items, "bom")):
        where = f"bom[{i}]"
        body = _mapping(item, where)
        when = body.get("when")
        result.append(
            BomLine(
                _text(body.get("component"), f"{where}.component"),
                _expr(str(body.get("quantity", 1)), domains, f"{where}.quantity"),
                _expr(when, domains, f"{where}.when") if when is not None else None,
            )
        )
    return result


def _expr(text: Any, domains: Mapping[str, tuple[Value, ...]], where: str) -> Expr:
    if not isinstance(text, str | int | float | bool):
        raise InvalidInput(where, "an expression string is required")
    try:
        return parse(str(text) if not isinstance(text, bool) else str(text).lower(), domains)
    except InvalidInput as exc:
        raise InvalidInput(where, f"{exc.field}: {exc.reason}") from exc


def _value(raw: Any, domain: tuple[Value, ...], where: str) -> Value:
    for value in domain:
        if value == raw or str(value) == str(raw):
            return value
    raise InvalidInput(where, f"{raw!r} is not in the domain {list(domain)!r}")


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(where, "a mapping is required")
    return {str(k): v for k, v in data.items()}


def _list(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise InvalidInput(where, "a list is required")
    return data


def _text(data: Any, where: str) -> str:
    if not isinstance(data, str) or not data:
        raise InvalidInput(where, "a non-empty string is required")
    return data


def _number(data: Any, where: str) -> float:
    if isinstance(data, bool) or not isinstance(data, int | float):
        raise InvalidInput(where, f"{data!r} is not a number")
    return float(data)
