"""Valid domains: exact (equal to brute force), backtrack-free, thread-safe."""

from __future__ import annotations

import random
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from itertools import product as cartesian
from pathlib import Path

import pytest

from configurator import bruteforce
from configurator.dialog import random_dialog
from configurator.engine import Configurator
from configurator.errors import ChoicesInconsistent
from configurator.expression import Value, evaluate, parse
from configurator.formats.featureide import load_featureide_file
from configurator.formats.native import load_native_file
from configurator.model import Constraint, ProductModel, Variable
from configurator.synthetic import TableModelSpec, table_model
from core.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench" / "data"
SMALL_TABLES = TableModelSpec(seed=5, variables=14, tables=18, big_tables=0, window=5)


@pytest.fixture(scope="module")
def ebike() -> Configurator:
    return Configurator(load_native_file(ROOT / "configurator" / "demo" / "ebike.yaml"))


@pytest.fixture(scope="module")
def tables() -> Configurator:
    return Configurator(table_model(SMALL_TABLES))


def _random_choices(cfg: Configurator, rng: random.Random, size: int) -> dict[str, Value]:
    """Random choices that are consistent, grown one offered value at a time."""
    choices: dict[str, Value] = {}
    for _ in range(size):
        domains = cfg.valid_domains(choices)
        name = rng.choice(sorted(n for n, values in domains.items() if values))
        choices[name] = rng.choice(domains[name])
    return choices


@pytest.fixture(scope="module")
def ebike_products(ebike: Configurator) -> list[dict[str, Value]]:
    """Every e-bike, enumerated once by python-constraint2."""
    return bruteforce.solutions(ebike.model, {})


def _fits(model: ProductModel, product: Mapping[str, Value], choices: Mapping[str, Value]) -> bool:
    """Whether a product honours technical choices and the rules of answered needs."""
    for name, value in choices.items():
        if name in product and product[name] != value:
            return False
    return all(
        evaluate(rule.expr, product)
        for rule in model.need_rules
        if choices.get(rule.need) == rule.answer
    )


@pytest.mark.parametrize("seed", range(12))
def test_ebike_domains_equal_brute_force(
    ebike: Configurator, ebike_products: list[dict[str, Value]], seed: int
) -> None:
    choices = _random_choices(ebike, random.Random(seed), seed % 5)
    fitting = [p for p in ebike_products if _fits(ebike.model, p, choices)]
    got = ebike.valid_domains(choices)
    for var in ebike.model.variables:
        if var.name not in choices:
            assert got[var.name] == [
                x for x in var.domain if any(p[var.name] == x for p in fitting)
            ]
    for need in ebike.model.needs:
        if need.name not in choices:
            possible = [
                answer
                for answer in need.domain
                if any(_fits(ebike.model, p, {**choices, need.name: answer}) for p in fitting)
            ]
            assert got[need.name] == possible


@pytest.mark.parametrize("seed", range(8))
def test_table_model_domains_equal_brute_force(tables: Configurator, seed: int) -> None:
    choices = _random_choices(tables, random.Random(seed), seed % 3)
    assert tables.valid_domains(choices) == bruteforce.valid_domains_from_solutions(
        tables.model, choices
    )


def _arc_consistent(model: ProductModel) -> dict[str, list[Value]]:
    """Generalised arc consistency by enumeration: the propagation a CSP form would do."""
    domains = {v.name: list(v.domain) for v in model.variables}
    changed = True
    while changed:
        changed = False
        for c in model.constraints:
            scope = sorted(c.variables)
            rows = [
                dict(zip(scope, row, strict=True))
                for row in cartesian(*(domains[v] for v in scope))
            ]
            for var in scope:
                kept = [x for x in domains[var] if any(r[var] == x and c.holds(r) for r in rows)]
                changed |= kept != domains[var]
                domains[var] = kept
    return domains


def test_arc_consistency_is_not_enough_the_engine_is_exact() -> None:
    # With `strict`, x, y and z must be pairwise different over two values:
    # each rule alone has support for strict=True, together they have none.
    model = ProductModel(
        "pigeons",
        (*(Variable(n, (0, 1)) for n in "xyz"), Variable("strict", (False, True))),
        tuple(
            Constraint(f"{a} differs from {b}", parse(f"strict implies {a} != {b}"))
            for a, b in ("xy", "yz", "xz")
        ),
    )
    assert _arc_consistent(model)["strict"] == [False, True]
    assert Configurator(model).valid_domains({})["strict"] == [False]
    assert bruteforce.valid_domains_from_solutions(model, {})["strict"] == [False]


def test_feature_model_domains_equal_brute_force() -> None:
    model = load_featureide_file(DATA / "pc-richmond.featureide.xml")
    cfg = Configurator(model)
    # Fix enough features that brute force stays small, then compare.
    rng = random.Random(1)
    choices = _random_choices(cfg, rng, 0)
    domains = cfg.valid_domains(choices)
    while sum(len(v) > 1 for v in domains.values()) > 14:
        name = rng.choice(sorted(n for n, v in domains.items() if len(v) > 1))
        choices[name] = rng.choice(domains[name])
        domains = cfg.valid_domains(choices)
    forced = {k: v[0] for k, v in domains.items() if len(v) == 1}
    expected = bruteforce.valid_domains_from_solutions(model, {**choices, **forced})
    assert {k: v for k, v in domains.items() if len(v) > 1} == {
        k: v for k, v in expected.items() if k not in forced
    }


@pytest.mark.parametrize("seed", range(15))
def test_ebike_dialogs_are_backtrack_free(ebike: Configurator, seed: int) -> None:
    result = random_dialog(ebike, random.Random(seed), answer_needs=seed % 2 == 0)
    assert set(result.product) == set(ebike.variables)


@pytest.mark.parametrize("seed", range(10))
def test_table_model_dialogs_are_backtrack_free(tables: Configurator, seed: int) -> None:
    result = random_dialog(tables, random.Random(seed))
    assert result.product in bruteforce.solutions(tables.model, {})


def test_pc_richmond_dialogs_are_backtrack_free() -> None:
    cfg = Configurator(load_featureide_file(DATA / "pc-richmond.featureide.xml"))
    for seed in range(8):
        assert len(random_dialog(cfg, random.Random(seed)).product) == 377


def test_automotive01_root_and_one_dialog() -> None:
    cfg = Configurator(load_featureide_file(DATA / "automotive01.featureide.xml"))
    root = cfg.valid_domains({})
    # FIELD-NOTES: 4,731 of the 5,026 values are valid (dead and core features are fixed).
    assert sum(len(v) for v in root.values()) == 4731
    assert len(random_dialog(cfg, random.Random(0)).product) == 2513


def test_inconsistent_choices_raise_a_minimal_conflict(ebike: Configurator) -> None:
    with pytest.raises(ChoicesInconsistent) as caught:
        ebike.valid_domains({"color": "white", "frame": "mtb", "fenders": True, "lock": "none"})
    assert caught.value.explanation.conflict == {"frame": "mtb", "fenders": True}
    assert caught.value.field == "choices"


def test_normalize_coerces_raw_values_and_rejects_unknown(ebike: Configurator) -> None:
    assert ebike.normalize({"rack": "true", "battery_wh": "625"}) == {
        "rack": True,
        "battery_wh": 625,
    }
    with pytest.raises(InvalidInput, match="unknown variable"):
        ebike.normalize({"turbo": 1})
    with pytest.raises(InvalidInput) as caught:
        ebike.normalize({"battery_wh": 9000})
    assert caught.value.field == "choices.battery_wh"


def _dialog_products(cfg: Configurator, seeds: range) -> list[Mapping[str, Value]]:
    return [random_dialog(cfg, random.Random(s)).product for s in seeds]


def test_threads_share_one_configurator(tables: Configurator) -> None:
    expected = _dialog_products(tables, range(8))
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda s: random_dialog(tables, random.Random(s)).product, range(8)))
    assert got == expected


def test_a_model_without_products_is_refused() -> None:
    model = ProductModel(
        "empty",
        (Variable("a", (1, 2)),),
        (Constraint("big", parse("a > 1")), Constraint("small", parse("a < 2"))),
    )
    with pytest.raises(InvalidInput, match="no valid product"):
        Configurator(model)
