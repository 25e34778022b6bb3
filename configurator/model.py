"""The product model: frozen dataclasses every importer produces and the engine compiles.

A product is an assignment of one value to every `Variable`. `Constraint`s
(expressions or tables) say which assignments are valid products. `Need`s are
functional questions; answering one adds its `NeedRule`s. Prices are linear:
`base_price` plus one `PriceRule` amount per chosen (variable, value).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import product as cartesian

from configurator.expression import Expr, Value, evaluate, names
from core.errors import InvalidInput


@dataclass(frozen=True)
class Variable:
    """A technical choice with a finite domain."""

    name: str
    domain: tuple[Value, ...]
    label: str = ""
    help: str = ""


@dataclass(frozen=True)
class Constraint:
    """A rule: either an expression (`expr`) or a table over `scope`.

    A table lists `tuples` that are allowed (`allowed=True`, XCSP "supports")
    or forbidden (`allowed=False`, XCSP "conflicts").
    """

    name: str
    expr: Expr | None = None
    scope: tuple[str, ...] = ()
    tuples: tuple[tuple[Value, ...], ...] = ()
    allowed: bool = True
    source: str = ""

    @property
    def variables(self) -> frozenset[str]:
        return names(self.expr) if self.expr is not None else frozenset(self.scope)

    def holds(self, env: Mapping[str, Value]) -> bool:
        """Whether a complete assignment satisfies this rule."""
        if self.expr is not None:
            return bool(evaluate(self.expr, env))
        row = tuple(env[v] for v in self.scope)
        return (row in self._tuple_set) == self.allowed

    @cached_property
    def _tuple_set(self) -> frozenset[tuple[Value, ...]]:
        return frozenset(self.tuples)


@dataclass(frozen=True)
class NeedOption:
    """One answer to a functional question."""

    value: str
    label: str = ""
    help: str = ""


@dataclass(frozen=True)
class Need:
    """A functional question put to the customer (usage, budget, range...)."""

    name: str
    options: tuple[NeedOption, ...]
    label: str = ""
    help: str = ""

    @property
    def domain(self) -> tuple[Value, ...]:
        return tuple(o.value for o in self.options)


@dataclass(frozen=True)
class NeedRule:
    """When `need` is answered `answer`, the technical rule `expr` must hold."""

    need: str
    answer: str
    expr: Expr
    source: str = ""


@dataclass(frozen=True)
class Default:
    """A soft choice: applied when consistent, overridden by the engine otherwise."""

    variable: str
    value: Value


@dataclass(frozen=True)
class PriceRule:
    """Choosing `value` for `variable` adds `amount` to the price."""

    variable: str
    value: Value
    amount: float


@dataclass(frozen=True)
class Component:
    """A purchased or manufactured part."""

    id: str
    name: str = ""
    price: float = 0.0
    lead_time_days: int = 0


@dataclass(frozen=True)
class BomLine:
    """A super-BOM line: `quantity` of `component` when `condition` holds."""

    component: str
    quantity: Expr
    condition: Expr | None = None


@dataclass(frozen=True)
class ProductModel:
    """A whole product model, as imported; `validate()` checks its references."""

    name: str
    variables: tuple[Variable, ...]
    constraints: tuple[Constraint, ...] = ()
    needs: tuple[Need, ...] = ()
    need_rules: tuple[NeedRule, ...] = ()
    defaults: tuple[Default, ...] = ()
    prices: tuple[PriceRule, ...] = ()
    base_price: float = 0.0
    components: tuple[Component, ...] = ()
    bom: tuple[BomLine, ...] = ()
    label: str = ""
    version: str = "1"
    meta: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def variable_map(self) -> dict[str, Variable]:
        return {v.name: v for v in self.variables}

    @cached_property
    def domains(self) -> dict[str, tuple[Value, ...]]:
        return {v.name: v.domain for v in self.variables}

    @cached_property
    def price_amounts(self) -> dict[str, dict[Value, float]]:
        """variable -> value -> amount, summing duplicate price rules."""
        table: dict[str, dict[Value, float]] = {}
        for rule in self.prices:
            amounts = table.setdefault(rule.variable, {})
            amounts[rule.value] = amounts.get(rule.value, 0.0) + rule.amount
        return table

    def validate(self) -> ProductModel:
        """Raise InvalidInput on a dangling reference; return self for chaining."""
        _check_variables(self)
        known = self.domains
        for c in self.constraints:
            _check_names(c.variables, known, f"constraints.{c.name}")
        needs = {n.name: n for n in self.needs}
        for i, rule in enumerate(self.need_rules):
            where = f"need_rules[{i}]"
            if rule.need not in needs or rule.answer not in needs[rule.need].domain:
                raise InvalidInput(where, f"unknown need answer {rule.need}={rule.answer!r}")
            _check_names(names(rule.expr), known, where)
        for i, d in enumerate(self.defaults):
            _check_value(d.variable, d.value, known, f"defaults[{i}]")
        for i, p in enumerate(self.prices):
            _check_value(p.variable, p.value, known, f"prices[{i}]")
        _check_bom(self, known)
        return self


def _check_variables(model: ProductModel) -> None:
    seen: set[str] = set()
    items: list[Variable | Need] = [*model.variables, *model.needs]
    for item in items:
        if item.name in seen:
            raise InvalidInput(f"variables.{item.name}", "name used twice")
        if not item.domain:
            raise InvalidInput(f"variables.{item.name}", "empty domain")
        if len(set(item.domain)) != len(item.domain):
            raise InvalidInput(f"variables.{item.name}", "a value appears twice in the domain")
        seen.add(item.name)


def _check_names(used: frozenset[str], known: Mapping[str, object], where: str) -> None:
    unknown = sorted(used - known.keys())
    if unknown:
        raise InvalidInput(where, f"unknown variable {unknown[0]!r}")


def _check_value(
    var: str, value: Value, known: Mapping[str, tuple[Value, ...]], where: str
) -> None:
    if var not in known:
        raise InvalidInput(where, f"unknown variable {var!r}")
    if value not in known[var]:
        raise InvalidInput(where, f"{value!r} is not a value of {var!r}")


def _check_bom(model: ProductModel, known: Mapping[str, tuple[Value, ...]]) -> None:
    components = {c.id for c in model.components}
    for i, line in enumerate(model.bom):
        where = f"bom[{i}]"
        if line.component not in components:
            raise InvalidInput(where, f"unknown component {line.component!r}")
        used = names(line.quantity) | (names(line.condition) if line.condition else frozenset())
        _check_names(used, known, where)


def violations(model: ProductModel, env: Mapping[str, Value]) -> list[str]:
    """Names of the rules a complete assignment breaks (independent of the solver)."""
    broken = [c.name for c in model.constraints if not c.holds(env)]
    return broken + [
        f"{r.need}={r.answer}"
        for r in model.need_rules
        if env.get(r.need) == r.answer and not evaluate(r.expr, env)
    ]


def enumerate_products(model: ProductModel) -> list[dict[str, Value]]:
    """Every valid product by brute force: only for tiny models (tests)."""
    names_ = [v.name for v in model.variables]
    result = []
    for row in cartesian(*(v.domain for v in model.variables)):
        env = dict(zip(names_, row, strict=True))
        if all(c.holds(env) for c in model.constraints):
            result.append(env)
    return result
