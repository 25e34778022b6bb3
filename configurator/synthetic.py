"""Deterministic table-heavy product models (Renault-like) for tests and benchmarks.

Industrial car configurators are ~100 variables tied by ~100 compatibility
tables over a few neighbouring variables each; a table is a union of
"rectangles" (for these bodies, those engines with those gearboxes), some
hold 10^5 rows, and the whole has ~10^12 products. The generator mimics that:
scopes are drawn from a sliding window (low treewidth, as in real models),
rows are unions of random rectangles, and a few seeded products are always
kept so the model is never empty. Same arguments, same model.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import product as cartesian

from configurator.expression import Value
from configurator.model import Constraint, PriceRule, ProductModel, Variable


@dataclass(frozen=True)
class TableModelSpec:
    """Knobs of the generator; the defaults give the benchmark model."""

    seed: int = 2026
    variables: int = 100
    tables: int = 165
    big_tables: int = 3
    big_rows: int = 100_000
    window: int = 6
    rectangles: tuple[int, int] = (2, 5)
    density: tuple[float, float] = (0.15, 0.5)
    big_density: tuple[float, float] = (0.6, 0.9)
    big_sizes: tuple[int, int] = (12, 14)
    seeds: int = 12
    priced: int = 40


def table_model(spec: TableModelSpec | None = None) -> ProductModel:
    """Build the model described by `spec` (deterministic)."""
    spec = spec or TableModelSpec()
    rng = random.Random(spec.seed)  # noqa: S311 (reproducible test data, not security)
    sizes = [rng.choice((2, 2, 2, 3, 3, 4, 4, 5, 6, 8)) for _ in range(spec.variables)]
    big_starts = rng.sample(range(0, spec.variables - spec.window), spec.big_tables)
    for start in big_starts:
        for i in range(start, start + 5):
            sizes[i] = rng.randint(*spec.big_sizes)
    names = [f"v{i:03d}" for i in range(spec.variables)]
    variables = tuple(
        Variable(name, tuple(range(size)), label=f"Option {name}")
        for name, size in zip(names, sizes, strict=True)
    )
    seeds = [[rng.randrange(size) for size in sizes] for _ in range(spec.seeds)]
    constraints = [
        _table(
            rng,
            spec,
            names,
            sizes,
            seeds,
            list(range(start, start + 5)),
            f"big table {n + 1}",
            big=True,
        )
        for n, start in enumerate(big_starts)
    ]
    for n in range(spec.tables - spec.big_tables):
        start = rng.randrange(0, spec.variables - spec.window + 1)
        scope = sorted(
            rng.sample(range(start, start + spec.window), rng.choice((2, 2, 3, 3, 3, 4)))
        )
        constraints.append(_table(rng, spec, names, sizes, seeds, scope, f"table {n + 1}"))
    return ProductModel(
        name=f"synthetic-{spec.seed}",
        label="Synthetic table-heavy product",
        variables=variables,
        constraints=tuple(constraints),
        prices=tuple(_prices(rng, variables[: spec.priced])),
    )


def _table(
    rng: random.Random,
    spec: TableModelSpec,
    names: list[str],
    sizes: list[int],
    seeds: list[list[int]],
    scope: list[int],
    name: str,
    *,
    big: bool = False,
) -> Constraint:
    rows: set[tuple[Value, ...]] = {tuple(seed[i] for i in scope) for seed in seeds}
    density = spec.big_density if big else spec.density
    for _ in range(rng.randint(*spec.rectangles)):
        sides = [
            rng.sample(range(sizes[i]), max(1, round(rng.uniform(*density) * sizes[i])))
            for i in scope
        ]
        more = rows.union(cartesian(*sides))
        if len(more) > spec.big_rows:
            break
        rows = more
    return Constraint(name, scope=tuple(names[i] for i in scope), tuples=tuple(sorted(rows)))


def _prices(rng: random.Random, variables: tuple[Variable, ...]) -> list[PriceRule]:
    return [
        PriceRule(v.name, value, float(rng.choice((0, 0, 15, 40, 90, 250, 600))))
        for v in variables
        for value in v.domain
    ]
