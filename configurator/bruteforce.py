"""python-constraint2 as an independent oracle (tests) and as the small-model baseline.

Nothing here uses the SAT encoding: rules are evaluated directly, so the
engine's answers can be checked against it. One `Problem` is built per query
(FIELD-NOTES: reused problems re-add constraints and keep shrunk domains).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from constraint import Problem, RecursiveBacktrackingSolver

from configurator.expression import Expr, Value, evaluate, names
from configurator.model import Constraint, ProductModel


def problem(model: ProductModel, choices: Mapping[str, Value]) -> Any:
    """A python-constraint2 Problem for the technical variables under `choices`."""
    prob = Problem(RecursiveBacktrackingSolver())
    for var in model.variables:
        prob.addVariable(var.name, [choices[var.name]] if var.name in choices else list(var.domain))
    rules: list[Constraint | Expr] = list(model.constraints)
    rules += [r.expr for r in model.need_rules if choices.get(r.need) == r.answer]
    for rule in rules:
        scope, test = _checker(rule)
        if scope:
            prob.addConstraint(test, list(scope))
        elif not test():
            prob.addConstraint(lambda _v: False, [model.variables[0].name])
    return prob


def _checker(rule: Constraint | Expr) -> tuple[tuple[str, ...], Callable[..., bool]]:
    if isinstance(rule, Constraint) and rule.expr is None:
        scope = rule.scope
        rows = frozenset(rule.tuples)
        allowed = rule.allowed
        return scope, lambda *vals: (tuple(vals) in rows) == allowed
    expr = rule.expr if isinstance(rule, Constraint) else rule
    assert expr is not None  # noqa: S101 (narrowing: tables are handled above)
    scope = tuple(sorted(names(expr)))
    return scope, lambda *vals: bool(evaluate(expr, dict(zip(scope, vals, strict=True))))


def solutions(model: ProductModel, choices: Mapping[str, Value]) -> list[dict[str, Value]]:
    """Every valid product extending `choices`."""
    found: list[dict[str, Value]] = problem(model, choices).getSolutions()
    return found


def valid_domains_from_solutions(
    model: ProductModel, choices: Mapping[str, Value]
) -> dict[str, list[Value]]:
    """Valid values of each technical variable not in `choices`, from all solutions."""
    sols = solutions(model, choices)
    return {
        v.name: [x for x in v.domain if any(s[v.name] == x for s in sols)]
        for v in model.variables
        if v.name not in choices
    }


def valid_domains_per_value(
    model: ProductModel, choices: Mapping[str, Value]
) -> dict[str, list[Value]]:
    """The baseline: one python-constraint2 solve per candidate value."""
    result: dict[str, list[Value]] = {}
    for var in model.variables:
        if var.name in choices:
            continue
        result[var.name] = [
            x for x in var.domain if problem(model, {**choices, var.name: x}).getSolution()
        ]
    return result
