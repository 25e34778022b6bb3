"""Compile a `ProductModel` to CNF: one boolean per variable value, exactly one per variable.

- A two-valued variable gets a single boolean (second value = true literal).
- Expressions go to negation normal form over value literals; a comparison
  over one variable becomes the disjunction of its satisfying values; an
  atom over several variables is enumerated and encoded as a decision diagram.
- Tables are encoded as multi-valued decision diagrams with one auxiliary
  boolean per node (FIELD-NOTES: one auxiliary per tuple is ~50x dearer).
- Each rule's clauses are split into definitions (never constrain value
  literals on their own) and roots (the rule itself), so explanations can
  guard the roots with a selector literal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import product as cartesian

from configurator.expression import LOGIC_OPS, Binary, Expr, Unary, Value, evaluate, names
from configurator.model import Constraint, ProductModel
from core.errors import InvalidInput

Clause = list[int]
ENUMERATION_LIMIT = 1_000_000
DISTRIBUTION_LIMIT = 8
PAIRWISE_LIMIT = 6


@dataclass(frozen=True)
class FAnd:
    """Conjunction in NNF; `FAnd(())` is true."""

    items: tuple[Formula, ...]


@dataclass(frozen=True)
class FOr:
    """Disjunction in NNF; `FOr(())` is false."""

    items: tuple[Formula, ...]


Formula = int | FAnd | FOr
TRUE = FAnd(())
FALSE = FOr(())


@dataclass
class RuleCnf:
    """The root clauses of one named rule (a constraint or a need rule)."""

    name: str
    roots: list[Clause]


@dataclass
class Encoding:
    """The CNF of a model plus the map between values and literals."""

    domains: dict[str, tuple[Value, ...]]
    lits: dict[str, tuple[int, ...]]
    needs: frozenset[str]
    base: list[Clause] = field(default_factory=list)
    rules: list[RuleCnf] = field(default_factory=list)
    top: int = 0

    def lit(self, var: str, value: Value) -> int:
        return self.lits[var][self.domains[var].index(value)]

    def new_var(self) -> int:
        self.top += 1
        return self.top

    def all_clauses(self) -> list[Clause]:
        return self.base + [c for rule in self.rules for c in rule.roots]


def encode(model: ProductModel) -> Encoding:
    """Compile the model (variables, constraints, need rules) to CNF."""
    enc = Encoding(dict(model.domains), {}, frozenset(n.name for n in model.needs))
    for var in model.variables:
        enc.lits[var.name] = _value_literals(enc, len(var.domain))
    for need in model.needs:
        enc.domains[need.name] = need.domain
        enc.lits[need.name] = tuple(enc.new_var() for _ in need.options)
    compiler = _Compiler(enc)
    for constraint in model.constraints:
        roots = compiler.constraint(constraint)
        if [] in roots:
            raise InvalidInput(f"constraints.{constraint.name}", "this rule can never hold")
        enc.rules.append(RuleCnf(constraint.name, roots))
    for rule in model.need_rules:
        guard = -enc.lit(rule.need, rule.answer)
        clauses = compiler.clauses(compiler.formula(rule.expr, True))
        label = f"need {rule.need}={rule.answer}: {rule.source}".rstrip(": ")
        enc.rules.append(RuleCnf(label, [[guard, *c] for c in clauses]))
    return enc


def _value_literals(enc: Encoding, size: int) -> tuple[int, ...]:
    if size == 1:
        only = enc.new_var()
        enc.base.append([only])
        return (only,)
    if size == 2:
        flag = enc.new_var()
        return (-flag, flag)
    lits = tuple(enc.new_var() for _ in range(size))
    enc.base.append(list(lits))
    if size <= PAIRWISE_LIMIT:
        enc.base.extend([-a, -b] for i, a in enumerate(lits) for b in lits[i + 1 :])
    else:
        _sequential_at_most_one(enc, lits)
    return lits


def _sequential_at_most_one(enc: Encoding, lits: Sequence[int]) -> None:
    prev = enc.new_var()
    enc.base.append([-lits[0], prev])
    for lit in lits[1:-1]:
        cur = enc.new_var()
        enc.base.extend([[-lit, cur], [-prev, cur], [-lit, -prev]])
        prev = cur
    enc.base.append([-lits[-1], -prev])


class _Compiler:
    def __init__(self, enc: Encoding) -> None:
        self.enc = enc
        self.atoms: dict[Expr, int] = {}
        self.nodes: dict[tuple[str, frozenset[tuple[int, int]]], int] = {}

    def constraint(self, c: Constraint) -> list[Clause]:
        try:
            if c.expr is not None:
                return self.clauses(self.formula(c.expr, True))
            if c.allowed:
                return self.clauses(self.table(c.scope, c.tuples))
            return [
                [-self.enc.lit(v, x) for v, x in zip(c.scope, row, strict=True)] for row in c.tuples
            ]
        except InvalidInput as exc:
            raise InvalidInput(f"constraints.{c.name}", exc.message) from exc

    def formula(self, node: Expr, positive: bool) -> Formula:
        if isinstance(node, Unary) and node.op == "not":
            return self.formula(node.operand, not positive)
        if isinstance(node, Binary) and node.op in LOGIC_OPS:
            return self.logic(node, positive)
        return self.atom(node, positive)

    def logic(self, node: Binary, positive: bool) -> Formula:
        a, b = node.left, node.right
        if node.op in ("and", "or"):
            parts = (self.formula(a, positive), self.formula(b, positive))
            return _and(parts) if (node.op == "and") == positive else _or(parts)
        if node.op == "implies":
            if positive:
                return _or((self.formula(a, False), self.formula(b, True)))
            return _and((self.formula(a, True), self.formula(b, False)))
        if positive:
            both_true = _and((self.formula(a, True), self.formula(b, True)))
            both_false = _and((self.formula(a, False), self.formula(b, False)))
            return _or((both_true, both_false))
        return _or(
            (
                _and((self.formula(a, True), self.formula(b, False))),
                _and((self.formula(a, False), self.formula(b, True))),
            )
        )

    def atom(self, node: Expr, positive: bool) -> Formula:
        scope = sorted(names(node))
        if not scope:
            return TRUE if bool(evaluate(node, {})) == positive else FALSE
        if len(scope) == 1:
            var = scope[0]
            domain = self.enc.domains[var]
            keep = [v for v in domain if bool(evaluate(node, {var: v})) == positive]
            if len(keep) == len(domain):
                return TRUE
            return _or(tuple(self.enc.lit(var, v) for v in keep))
        flag = self.atoms.get(node)
        if flag is None:
            flag = self.atoms[node] = self.multi_atom(node, scope)
        return flag if positive else -flag

    def multi_atom(self, node: Expr, scope: list[str]) -> int:
        domains = [self.enc.domains[v] for v in scope]
        size = 1
        for d in domains:
            size *= len(d)
        if size > ENUMERATION_LIMIT:
            raise InvalidInput("expression", f"an atom over {scope} has {size} combinations")
        true_rows: list[tuple[Value, ...]] = []
        false_rows: list[tuple[Value, ...]] = []
        for row in cartesian(*domains):
            holds = bool(evaluate(node, dict(zip(scope, row, strict=True))))
            (true_rows if holds else false_rows).append(row)
        flag = self.enc.new_var()
        self.enc.base.extend(
            [-flag if polarity else flag, *clause]
            for polarity, rows in ((True, true_rows), (False, false_rows))
            for clause in self.clauses(self.table(tuple(scope), rows))
        )
        return flag

    def table(self, scope: tuple[str, ...], rows: Sequence[tuple[Value, ...]]) -> Formula:
        """A decision diagram of the allowed rows; returns the root as a formula."""
        index = [{v: i for i, v in enumerate(self.enc.domains[var])} for var in scope]
        current: dict[tuple[int, ...], int] = {}
        for row in rows:
            current[tuple(index[i][v] for i, v in enumerate(row))] = 0
        if not current:
            return FALSE
        for level in reversed(range(len(scope))):
            groups: dict[tuple[int, ...], dict[int, int]] = {}
            for key, child in current.items():
                groups.setdefault(key[:level], {})[key[level]] = child
            current = {p: self.node(scope[level], edges) for p, edges in groups.items()}
        root = current[()]
        return TRUE if root == 0 else root

    def node(self, var: str, edges: dict[int, int]) -> int:
        children = set(edges.values())
        if len(edges) == len(self.enc.domains[var]) and len(children) == 1:
            return children.pop()
        key = (var, frozenset(edges.items()))
        found = self.nodes.get(key)
        if found is not None:
            return found
        node = self.nodes[key] = self.enc.new_var()
        lits = self.enc.lits[var]
        at_least = _clean([-node, *(lits[v] for v in edges)])
        if at_least != [0]:
            self.enc.base.append(at_least)
        self.enc.base.extend([-node, -lits[v], child] for v, child in edges.items() if child != 0)
        return node

    def clauses(self, f: Formula) -> list[Clause]:
        if isinstance(f, int):
            return [[f]]
        if isinstance(f, FAnd):
            return [c for item in f.items for c in self.clauses(item)]
        result: list[Clause] = [[]]
        for item in f.items:
            part = self.clauses(item)
            if not part:
                return []
            if len(part) > 1 and len(part) * len(result) > DISTRIBUTION_LIMIT:
                aux = self.enc.new_var()
                self.enc.base.extend([-aux, *c] for c in part)
                part = [[aux]]
            result = [r + c for r in result for c in part]
        return [c for c in (_clean(c) for c in result) if c != [0]]


def _clean(clause: Clause) -> Clause:
    """Drop duplicate literals; a tautology becomes the marker `[0]`."""
    seen = dict.fromkeys(clause)
    if any(-lit in seen for lit in seen):
        return [0]
    return list(seen)


def _and(items: tuple[Formula, ...]) -> Formula:
    flat: list[Formula] = []
    for item in items:
        if isinstance(item, FOr) and not item.items:
            return FALSE
        flat.extend(item.items if isinstance(item, FAnd) else (item,))
    return flat[0] if len(flat) == 1 else FAnd(tuple(flat))


def _or(items: tuple[Formula, ...]) -> Formula:
    flat: list[Formula] = []
    for item in items:
        if isinstance(item, FAnd) and not item.items:
            return TRUE
        flat.extend(item.items if isinstance(item, FOr) else (item,))
    return flat[0] if len(flat) == 1 else FOr(tuple(flat))
