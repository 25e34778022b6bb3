"""Explanations: the conflict, the rules and the fix are all minimal, and correct."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from configurator import bruteforce
from configurator.engine import Configurator
from configurator.explain import Explanation, explain
from configurator.expression import Value, parse
from configurator.formats.native import load_native_file
from configurator.model import Constraint, ProductModel, Variable
from configurator.synthetic import TableModelSpec, table_model

ROOT = Path(__file__).resolve().parents[2]


def _possible(cfg: Configurator, choices: dict[str, Value]) -> bool:
    return cfg.solve(cfg.literals(choices)) is not None


def _unavailable(
    cfg: Configurator, rng: random.Random, steps: int
) -> list[tuple[dict[str, Value], str, Value]]:
    """(choices, variable, value) triples where the value is out, along a random dialog."""
    cases = []
    choices: dict[str, Value] = {}
    for _ in range(steps):
        domains = cfg.valid_domains(choices)
        for var in cfg.variables:
            if var in domains:
                cases += [
                    (dict(choices), var, x) for x in cfg.model.domains[var] if x not in domains[var]
                ]
        open_vars = [v for v in cfg.variables if len(domains.get(v, [])) > 1]
        if not open_vars:
            break
        name = rng.choice(open_vars)
        choices[name] = rng.choice(domains[name])
    return cases


def _exists(model: ProductModel, choices: dict[str, Value]) -> bool:
    """python-constraint2 as the oracle: is there any product at all?"""
    return bruteforce.problem(model, choices).getSolution() is not None


def _check_minimal(cfg: Configurator, case: tuple[dict[str, Value], str, Value]) -> Explanation:
    choices, var, value = case
    found = explain(cfg, choices, var, value)
    assert not found.available
    target = {var: value}
    assert not _possible(cfg, {**found.conflict, **target})
    for name in found.conflict:
        rest = {k: v for k, v in found.conflict.items() if k != name}
        assert _possible(cfg, {**rest, **target}), f"{name} is not needed in the conflict"
    if not found.conflict:  # a dead value: nothing to change can help
        assert found.retract == {}
        return found
    kept = {k: v for k, v in choices.items() if k not in found.retract}
    assert _possible(cfg, {**kept, **target})
    for name, old in found.retract.items():
        assert not _possible(cfg, {**kept, name: old, **target}), f"{name} need not change"
    return found


@pytest.mark.parametrize("seed", range(4))
def test_ebike_explanations_are_minimal(seed: int) -> None:
    cfg = Configurator(load_native_file(ROOT / "configurator" / "demo" / "ebike.yaml"))
    cases = _unavailable(cfg, random.Random(seed), 6)
    assert cases
    for case in cases:
        _check_minimal(cfg, case)


def test_table_model_explanations_and_rules_are_minimal() -> None:
    model = table_model(TableModelSpec(seed=9, variables=12, tables=16, big_tables=0, window=5))
    cfg = Configurator(model)
    cases = _unavailable(cfg, random.Random(2), 5)
    assert cases
    for case in cases[:25]:
        found = _check_minimal(cfg, case)
        rules = [c for c in model.constraints if c.name in found.rules]
        assert len(rules) == len(found.rules)
        target = {case[1]: case[2], **found.conflict}
        assert not _exists(replace(model, constraints=tuple(rules)), target)
        for dropped in rules:
            assert _exists(
                replace(model, constraints=tuple(r for r in rules if r is not dropped)), target
            )


def test_a_dead_value_has_no_conflicting_choice_and_no_fix() -> None:
    model = ProductModel(
        "dead",
        (Variable("a", (1, 2, 3)), Variable("b", (False, True))),
        (
            Constraint("no three", parse("a != 3")),
            Constraint("b needs a=1", parse("b implies a == 1")),
        ),
    )
    cfg = Configurator(model)
    dead = explain(cfg, {"b": True}, "a", 3)
    assert dead.conflict == {}
    assert dead.rules == ("no three",)
    assert dead.retract == {}
    assert "no change of choices" in dead.message
    blocked = explain(cfg, {"b": True}, "a", 2)
    assert blocked.conflict == {"b": True}
    assert blocked.retract == {"b": True}
    assert blocked.rules == ("b needs a=1",)
    assert blocked.as_dict()["message"] == (
        "a=2 is unavailable because of b=True (rules: b needs a=1);"
        " change b=True to make it possible"
    )


def test_an_available_value_says_so() -> None:
    cfg = Configurator(load_native_file(ROOT / "configurator" / "demo" / "ebike.yaml"))
    found = explain(cfg, {"frame": "city"}, "motor", "mid_250")
    assert found.available
    assert found.conflict == {}
