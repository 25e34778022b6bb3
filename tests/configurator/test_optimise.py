"""Completion, optimisation, price ranges, counting and bills of materials."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from configurator import bruteforce
from configurator.counting import count, count_by_elimination, count_by_enumeration
from configurator.dialog import random_dialog
from configurator.engine import Configurator
from configurator.expression import Value, evaluate, parse
from configurator.formats.featureide import load_featureide_file
from configurator.formats.native import load_native_file
from configurator.model import Constraint, Need, NeedOption, NeedRule, ProductModel, Variable
from configurator.optimise import Choice, PriceRange, complete, price_range
from configurator.pricing import bill_of_materials, price
from configurator.synthetic import TableModelSpec, table_model
from core.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
CHOICE_SETS: list[dict[str, Value]] = [
    {},
    {"usage": "touring"},
    {"motor": "mid_speed", "frame": "trekking"},
    {"usage": "commute", "budget": "economy", "color": "white"},
    {"range_km": "long", "rider_height": "under_165"},
    {"suspension": "full", "gears": "hub_5"},
]


@pytest.fixture(scope="module")
def ebike() -> Configurator:
    return Configurator(load_native_file(ROOT / "configurator" / "demo" / "ebike.yaml"))


@pytest.fixture(scope="module")
def products(ebike: Configurator) -> list[dict[str, Value]]:
    return bruteforce.solutions(ebike.model, {})


def _fitting(
    ebike: Configurator, products: list[dict[str, Value]], choices: dict[str, Value]
) -> list[dict[str, Value]]:
    return [
        p
        for p in products
        if all(p.get(k, v) == v for k, v in choices.items())
        and all(
            evaluate(r.expr, p) for r in ebike.model.need_rules if choices.get(r.need) == r.answer
        )
    ]


@pytest.mark.parametrize("choices", CHOICE_SETS)
def test_cheapest_completion_equals_brute_force(
    ebike: Configurator, products: list[dict[str, Value]], choices: dict[str, Value]
) -> None:
    fitting = _fitting(ebike, products, choices)
    best = complete(ebike, choices, use_defaults=False)
    assert best.price == min(price(ebike.model, p) for p in fitting)
    assert best.product in fitting
    assert all(best.choices[k].set_by == "user" for k in choices if k in ebike.variables)


@pytest.mark.parametrize("choices", CHOICE_SETS)
def test_price_range_equals_brute_force(
    ebike: Configurator, products: list[dict[str, Value]], choices: dict[str, Value]
) -> None:
    prices = [price(ebike.model, p) for p in _fitting(ebike, products, choices)]
    found = price_range(ebike, choices)
    assert (found.min, found.max) == (min(prices), max(prices))


def test_defaults_are_soft_and_user_choices_are_never_overridden(ebike: Configurator) -> None:
    # The cheapest product wins over defaults that cost extra (lights, gears),
    # and keeps the defaults that cost nothing (colour).
    plain = complete(ebike, {})
    assert plain.price == price_range(ebike, {}).min
    assert plain.choices["color"] == Choice("black", "default")
    assert plain.overridden_defaults["lights"] == "standard"
    assert plain.choices["lights"].set_by == "engine"
    # A speed pedelec needs high beam: the user's motor stays, the default gives way.
    fast = complete(ebike, {"motor": "mid_speed"})
    assert fast.choices["motor"].set_by == "user"
    assert fast.choices["lights"] == Choice("high_beam", "engine")
    assert fast.overridden_defaults["lights"] == "standard"
    assert {c.set_by for c in fast.choices.values()} == {"user", "default", "engine"}


def test_defaults_decide_between_equally_good_products(ebike: Configurator) -> None:
    free = {var: dict.fromkeys(values, 0.0) for var, values in ebike.model.domains.items()}
    kept = complete(ebike, {"frame": "city"}, objective=free)
    for default in ebike.model.defaults:
        assert kept.choices[default.variable] == Choice(default.value, "default")
    assert kept.overridden_defaults == {}


def test_weighted_objective(ebike: Configurator) -> None:
    liked = complete(
        ebike, {"frame": "city"}, objective={"color": {"black": 5, "white": 5}}, use_defaults=False
    )
    assert liked.choices["color"].value == "petrol"
    assert liked.choices["frame"].set_by == "user"


@pytest.mark.parametrize("choices", CHOICE_SETS)
def test_count_equals_brute_force(
    ebike: Configurator, products: list[dict[str, Value]], choices: dict[str, Value]
) -> None:
    expected = len(_fitting(ebike, products, choices))
    assert count(ebike, choices) == expected
    if expected <= 3000:  # enumeration is one SAT call per product
        assert count_by_enumeration(ebike, choices, 3000) == expected


def test_count_gives_up_beyond_its_budget(ebike: Configurator) -> None:
    assert count_by_enumeration(ebike, {}, 1000) is None
    assert count(ebike, {}, budget=10) is None


def test_table_model_count_by_elimination_equals_brute_force() -> None:
    model = table_model(TableModelSpec(seed=4, variables=13, tables=15, big_tables=0, window=5))
    cfg = Configurator(model)
    for choices in ({}, {"v003": 0}, {"v001": 1, "v007": 0}):
        if cfg.solve(cfg.literals(choices)) is None:
            continue
        assert count_by_elimination(cfg, choices, 10**6) == len(
            bruteforce.solutions(model, choices)
        )


def test_bom_and_price_of_a_complete_product(ebike: Configurator) -> None:
    product: dict[str, Value] = {
        "frame": "trekking", "frame_size": "L", "motor": "mid_250", "battery_wh": 625,
        "range_extender": True, "gears": "derailleur_12", "brakes": "hydraulic_disc",
        "suspension": "fork", "tyres": "trekking_47", "lights": "standard", "rack": True,
        "fenders": True, "lock": "frame_lock", "color": "petrol",
    }  # fmt: skip
    assert not ebike.model.constraints or all(c.holds(product) for c in ebike.model.constraints)
    assert (
        price(ebike.model, product)
        == 1290 + 90 + 420 + 260 + 549 + 140 + 110 + 150 + 45 + 60 + 35 + 55 + 25
    )
    bom = bill_of_materials(ebike.model, product)
    lines = {item.component: item.quantity for item in bom.items}
    assert lines["BATTERY-PACK"] == 4
    assert lines["REFLECTOR"] == 2
    assert lines["FENDER"] == 2
    assert lines["DISC-BRAKE"] == 2
    assert "RIM-BRAKE" not in lines
    assert "SHOCK" not in lines
    assert bom.lead_time_days == 35
    assert bom.cost == round(sum(i.quantity * i.unit_cost for i in bom.items), 2)


def test_bom_needs_a_complete_product(ebike: Configurator) -> None:
    with pytest.raises(InvalidInput, match="not complete"):
        bill_of_materials(ebike.model, {"frame": "city"})


def test_pc_richmond_cheapest_beats_every_random_product() -> None:
    cfg = Configurator(load_featureide_file(ROOT / "bench" / "data" / "pc-richmond.featureide.xml"))
    best = complete(cfg, {})
    assert not [c.name for c in cfg.model.constraints if not c.holds(best.product)]
    for seed in range(5):
        other = random_dialog(cfg, random.Random(seed)).product
        assert price(cfg.model, other) >= best.price
    dearest = price_range(cfg, {}).max
    assert best.price < dearest


def test_unconstrained_last_variable_and_no_prices() -> None:
    model = ProductModel(
        "loose",
        (Variable("a", (1, 2, 3)), Variable("free", (False, True))),
        (Constraint("a small", parse("a < 3")),),
        needs=(Need("why", (NeedOption("work"), NeedOption("fun"))),),  # "fun": top, in no clause
        need_rules=(NeedRule("why", "work", parse("a == 1")),),
    )
    cfg = Configurator(model)
    assert cfg.valid_domains({}) == {"a": [1, 2], "free": [False, True], "why": ["work", "fun"]}
    best = complete(cfg, {"free": True})
    assert best.product["free"] is True
    assert best.price == 0
    assert price_range(cfg, {}) == PriceRange(0, 0)
    assert count(cfg, {"why": "work"}) == 2
    assert count_by_enumeration(cfg, {}, 100) == 4
