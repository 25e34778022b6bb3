"""Completion and optimisation: the cheapest (or best weighted) product for given choices.

Costs are linear in the chosen values, so a MaxSAT call (python-sat RC2,
stratified because prices have many distinct weights) finds the optimum:
one soft clause per (variable, value) costing more than that variable's
cheapest value. User choices are hard and never overridden. Defaults are
soft and ranked below the objective: the completion is the optimum, and
among equally good products the one that keeps the most defaults, so the
cheapest completion always costs the minimum the price range shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pysat.examples.rc2 import RC2Stratified
from pysat.formula import WCNF

from configurator.expression import Value
from configurator.pricing import price, price_table

if TYPE_CHECKING:
    from configurator.engine import Configurator

Costs = Mapping[str, Mapping[Value, float]]
SCALE = 100  # costs become integer weights in hundredths


@dataclass(frozen=True)
class Choice:
    """A value and who set it: "user", "default" or "engine"."""

    value: Value
    set_by: str


@dataclass(frozen=True)
class Completion:
    """A complete product with provenance of every value."""

    choices: dict[str, Choice]
    price: float
    overridden_defaults: dict[str, Value]

    @property
    def product(self) -> dict[str, Value]:
        return {k: c.value for k, c in self.choices.items()}


@dataclass(frozen=True)
class PriceRange:
    """Cheapest and dearest price among the products consistent with the choices."""

    min: float
    max: float


def apply_defaults(
    cfg: Configurator, choices: Mapping[str, Value]
) -> tuple[dict[str, Value], dict[str, Value]]:
    """(defaults applied, defaults the engine had to override) on top of `choices`."""
    applied: dict[str, Value] = {}
    overridden: dict[str, Value] = {}
    lits = cfg.literals(choices)
    for default in cfg.model.defaults:
        if default.variable in choices or default.variable in applied:
            continue
        lit = cfg.encoding.lit(default.variable, default.value)
        if cfg.solve([*lits, lit]) is None:
            overridden[default.variable] = default.value
        else:
            applied[default.variable] = default.value
            lits.append(lit)
    return applied, overridden


def complete(
    cfg: Configurator,
    choices: Mapping[str, Value],
    *,
    objective: Costs | None = None,
    use_defaults: bool = True,
) -> Completion:
    """The optimal complete product: minimal price, or minimal `objective` when given.

    Among optimal products it keeps as many open defaults as it can; the
    defaults it had to give up are returned as `overridden_defaults`.
    """
    lits = cfg.check_consistent(choices)
    defaults = _open_defaults(cfg, choices) if use_defaults else {}
    costs = objective if objective is not None else price_table(cfg.model)
    preferred = [cfg.encoding.lit(var, value) for var, value in defaults.items()]
    product = cfg.decode(minimise(cfg, lits, costs, prefer=preferred))
    applied = {var: value for var, value in defaults.items() if product[var] == value}
    overridden = {var: value for var, value in defaults.items() if product[var] != value}
    result = {
        name: Choice(value, _origin(name, choices, applied)) for name, value in product.items()
    }
    return Completion(result, price(cfg.model, product), overridden)


def _open_defaults(cfg: Configurator, choices: Mapping[str, Value]) -> dict[str, Value]:
    """The first default of every variable the user left open, in model order."""
    defaults: dict[str, Value] = {}
    for default in cfg.model.defaults:
        if default.variable not in choices:
            defaults.setdefault(default.variable, default.value)
    return defaults


def _origin(name: str, choices: Mapping[str, Value], applied: Mapping[str, Value]) -> str:
    if name in choices:
        return "user"
    return "default" if name in applied else "engine"


def price_range(cfg: Configurator, choices: Mapping[str, Value]) -> PriceRange:
    """Exact min and max price over all products extending `choices`."""
    lits = cfg.check_consistent(choices)
    table = price_table(cfg.model)
    if not table:
        return PriceRange(cfg.model.base_price, cfg.model.base_price)
    cheapest = cfg.decode(minimise(cfg, lits, table))
    dearest_costs = {var: {v: -a for v, a in amounts.items()} for var, amounts in table.items()}
    dearest = cfg.decode(minimise(cfg, lits, dearest_costs))
    return PriceRange(price(cfg.model, cheapest), price(cfg.model, dearest))


def minimise(
    cfg: Configurator, hard: list[int], costs: Costs, *, prefer: Sequence[int] = ()
) -> list[int]:
    """A SAT model satisfying `hard` with minimal total cost (RC2 MaxSAT).

    Literals in `prefer` are kept when the cost allows: each weighs 1 while
    every unit of cost weighs more than all of them together.
    """
    enc = cfg.encoding
    rank = len(prefer) + 1
    soft = [(lit, weight * rank) for lit, weight in _soft_clauses(cfg, costs)]
    soft += [(-lit, 1) for lit in prefer]
    if not soft:
        return cfg.solve(hard) or []
    wcnf = WCNF()
    wcnf.extend(enc.all_clauses())
    for lit in hard:
        wcnf.append([lit])
    for lit, weight in soft:
        wcnf.append([-lit], weight=weight)
    # Without core exhaustion and minimisation RC2 stalls on pc-richmond's maximum price.
    with RC2Stratified(wcnf, solver="g4", adapt=True, exhaust=True, minz=True, trim=5) as rc2:
        found = rc2.compute()
    full = [-(i + 1) for i in range(enc.top)]
    for lit in found or []:
        if abs(lit) <= enc.top:
            full[abs(lit) - 1] = lit
    return full


def _soft_clauses(cfg: Configurator, costs: Costs) -> list[tuple[int, int]]:
    """(value literal, integer penalty) for each value dearer than its variable's cheapest."""
    soft = []
    for var, amounts in costs.items():
        domain = cfg.encoding.domains[var]
        low = min(amounts.get(v, 0.0) for v in domain)
        for value in domain:
            weight = round((amounts.get(value, 0.0) - low) * SCALE)
            if weight > 0:
                soft.append((cfg.encoding.lit(var, value), weight))
    return soft
