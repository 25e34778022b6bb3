"""Baseline for table models: generalised arc consistency alone (not backtrack-free).

Each table keeps its rows still compatible with the domains; a value stays
while some live row of every table on its variable supports it. The dialog
picks only values arc consistency offers and counts as a dead end when a
domain empties, which exact valid domains never allow.
"""

from __future__ import annotations

import random
import time

from configurator.expression import Value
from configurator.model import ProductModel


class TableAC:
    """Incremental GAC over allowed-tuple tables."""

    def __init__(self, model: ProductModel) -> None:
        if any(c.expr is not None or not c.allowed for c in model.constraints):
            raise ValueError("arc consistency baseline needs a model of allowed tables")
        self.scopes = [c.scope for c in model.constraints]
        self.rows = [list(c.tuples) for c in model.constraints]
        self.domains: dict[str, set[Value]] = {v.name: set(v.domain) for v in model.variables}
        self.watch: dict[str, list[int]] = {v.name: [] for v in model.variables}
        for i, scope in enumerate(self.scopes):
            for var in scope:
                self.watch[var].append(i)

    def assign(self, var: str, value: Value) -> bool:
        self.domains[var] = {value}
        return self.propagate(set(self.watch[var]))

    def propagate(self, queue: set[int]) -> bool:
        """Filter to a fixpoint; False on a wiped-out domain."""
        while queue:
            i = queue.pop()
            scope = self.scopes[i]
            doms = [self.domains[v] for v in scope]
            rows = [r for r in self.rows[i] if all(x in d for x, d in zip(r, doms, strict=True))]
            self.rows[i] = rows
            for k, var in enumerate(scope):
                supported = {r[k] for r in rows}
                if not supported:
                    return False
                if supported != self.domains[var]:
                    self.domains[var] = supported
                    queue.update(j for j in self.watch[var] if j != i)
        return True


def ac_dialog(model: ProductModel, rng: random.Random) -> tuple[list[float], bool]:
    """Seconds per choice, and whether the dialog reached a product without a dead end."""
    ac = TableAC(model)
    if not ac.propagate(set(range(len(ac.scopes)))):
        return [], False
    seconds: list[float] = []
    while True:
        open_vars = sorted(v for v, d in ac.domains.items() if len(d) > 1)
        if not open_vars:
            return seconds, True
        var = rng.choice(open_vars)
        value = rng.choice(sorted(ac.domains[var], key=repr))
        start = time.perf_counter()
        ok = ac.assign(var, value)
        seconds.append(time.perf_counter() - start)
        if not ok:
            return seconds, False
