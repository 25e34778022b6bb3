"""Exact counting of the valid products that extend a partial configuration.

Two exact methods, each within a budget, else the answer is None (unknown):
1. variable elimination over the rules as factor tables (a join tree in
   effect), which counts 10^12 products in seconds when the rules have low
   treewidth, as table-heavy product models do;
2. enumeration of products with the SAT solver and blocking clauses, for
   models whose rules cannot be tabulated (large feature groups) but that
   have few products left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product as cartesian
from typing import TYPE_CHECKING

from pysat.solvers import Solver

from configurator.expression import Expr, Value, evaluate, names
from configurator.model import Constraint

if TYPE_CHECKING:
    from configurator.engine import Configurator

DEFAULT_BUDGET = 300_000
ENUMERATION_SHARE = 100  # one SAT call per product: 3,000 products take ~0.5 s
Row = tuple[Value, ...]


@dataclass
class Factor:
    """Counts of the rows of `scope` (a row missing from `table` counts 0)."""

    scope: tuple[str, ...]
    table: dict[Row, int]


class _OverBudget(Exception):
    pass


def count(
    cfg: Configurator, choices: Mapping[str, Value], *, budget: int = DEFAULT_BUDGET
) -> int | None:
    """Number of complete valid products extending `choices`, or None beyond `budget`."""
    cfg.check_consistent(choices)
    try:
        return count_by_elimination(cfg, choices, budget)
    except _OverBudget:
        return count_by_enumeration(cfg, choices, budget // ENUMERATION_SHARE)


def count_by_elimination(cfg: Configurator, choices: Mapping[str, Value], budget: int) -> int:
    """Variable elimination; raises _OverBudget when a table would pass `budget` rows."""
    domains = {v: (choices[v],) if v in choices else cfg.model.domains[v] for v in cfg.variables}
    rules: list[Constraint | Expr] = list(cfg.model.constraints)
    rules += [r.expr for r in cfg.model.need_rules if choices.get(r.need) == r.answer]
    factors = [_factor(rule, domains, budget) for rule in rules]
    total = 1
    for var in set(cfg.variables) - {v for f in factors for v in f.scope}:
        total *= len(domains[var])
    return total * _eliminate(factors, domains, budget)


def _factor(
    rule: Constraint | Expr, domains: Mapping[str, tuple[Value, ...]], budget: int
) -> Factor:
    if isinstance(rule, Constraint) and rule.expr is None and rule.allowed:
        allowed = [set(domains[v]) for v in rule.scope]
        rows = {
            row: 1
            for row in rule.tuples
            if all(x in ok for x, ok in zip(row, allowed, strict=True))
        }
        return Factor(rule.scope, rows)
    if isinstance(rule, Constraint):
        scope = tuple(sorted(rule.variables))
        test = rule.holds
    else:
        scope = tuple(sorted(names(rule)))
        expr = rule

        def test(env: Mapping[str, Value]) -> bool:
            return bool(evaluate(expr, env))

    _check_size(scope, domains, budget)
    table = {
        row: 1
        for row in cartesian(*(domains[v] for v in scope))
        if test(dict(zip(scope, row, strict=True)))
    }
    return Factor(scope, table)


def _check_size(
    scope: tuple[str, ...], domains: Mapping[str, tuple[Value, ...]], budget: int
) -> None:
    size = 1
    for var in scope:
        size *= len(domains[var])
        if size > budget:
            raise _OverBudget


def _eliminate(factors: list[Factor], domains: Mapping[str, tuple[Value, ...]], budget: int) -> int:
    factors = list(factors)
    while any(f.scope for f in factors):
        var = min(
            {v for f in factors for v in f.scope},
            key=lambda v: _cost([f for f in factors if v in f.scope]),
        )
        touching = sorted((f for f in factors if var in f.scope), key=lambda f: len(f.table))
        factors = [f for f in factors if var not in f.scope]
        joined = touching[0]
        for other in touching[1:]:
            joined = _join(joined, other, budget)
        factors.append(_sum_out(joined, var))
    result = 1
    for f in factors:
        result *= f.table.get((), 0)
    return result


def _cost(factors: list[Factor]) -> int:
    size = 1
    for f in factors:
        size *= max(1, len(f.table))
    return min(size, 10**18)


def _join(a: Factor, b: Factor, budget: int) -> Factor:
    shared = [v for v in b.scope if v in a.scope]
    a_pos = [a.scope.index(v) for v in shared]
    b_pos = [b.scope.index(v) for v in shared]
    extra = [i for i, v in enumerate(b.scope) if v not in a.scope]
    index: dict[Row, list[tuple[Row, int]]] = {}
    for row, n in b.table.items():
        index.setdefault(tuple(row[i] for i in b_pos), []).append((tuple(row[i] for i in extra), n))
    out: dict[Row, int] = {}
    for row, n in a.table.items():
        for tail, m in index.get(tuple(row[i] for i in a_pos), ()):
            out[row + tail] = n * m
        if len(out) > budget:
            raise _OverBudget
    return Factor(a.scope + tuple(b.scope[i] for i in extra), out)


def _sum_out(f: Factor, var: str) -> Factor:
    pos = f.scope.index(var)
    out: dict[Row, int] = {}
    for row, n in f.table.items():
        key = row[:pos] + row[pos + 1 :]
        out[key] = out.get(key, 0) + n
    return Factor(f.scope[:pos] + f.scope[pos + 1 :], out)


def count_by_enumeration(cfg: Configurator, choices: Mapping[str, Value], limit: int) -> int | None:
    """Enumerate products with blocking clauses; None when there are more than `limit`."""
    enc = cfg.encoding
    assumptions = cfg.literals(choices)
    found = 0
    with Solver(name="g4", bootstrap_with=enc.all_clauses()) as solver:
        while solver.solve(assumptions=assumptions):
            found += 1
            if found > limit:
                return None
            model = cfg.model_of(solver)
            solver.add_clause(_blocking(cfg, model))
    return found


def _blocking(cfg: Configurator, model: list[int]) -> list[int]:
    clause = []
    for var in cfg.variables:
        lits = cfg.encoding.lits[var]
        if len(lits) == 2:
            clause.append(-model[abs(lits[1]) - 1])
        else:
            clause.extend(-lit for lit in lits if model[abs(lit) - 1] == lit)
    return clause
