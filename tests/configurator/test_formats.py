"""Importers: native YAML, FeatureIDE XML and XCSP 2.1, good files and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from configurator import bruteforce
from configurator.formats.featureide import load_featureide, load_featureide_file
from configurator.formats.native import SCHEMA_PATH, TOP_LEVEL_KEYS, load_native, load_native_file
from configurator.formats.xcsp import dump_xcsp, load_xcsp
from configurator.model import enumerate_products
from configurator.synthetic import TableModelSpec, table_model
from core.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configurator" / "demo" / "ebike.yaml"
PC_RICHMOND = ROOT / "bench" / "data" / "pc-richmond.featureide.xml"

SMALL_FM = """<?xml version="1.0" encoding="UTF-8"?>
<extendedFeatureModel>
  <struct>
    <and abstract="true" mandatory="true" name="Car">
      <attribute name="Price" value="100.0"/>
      <alt mandatory="true" name="Engine">
        <feature name="Petrol"><attribute name="Price" value="5"/></feature>
        <feature name="Electric"><attribute name="Price" value="20"/></feature>
        <feature name="Hybrid"/>
      </alt>
      <or name="Extras">
        <feature name="Towbar"/>
        <feature name="Roofbox"/>
      </or>
      <feature mandatory="true" name="Wheels"/>
    </and>
  </struct>
  <constraints>
    <rule><imp><var>Electric</var><not><var>Towbar</var></not></imp></rule>
    <rule><eq><var>Roofbox</var><disj><var>Hybrid</var><var>Petrol</var></disj></eq></rule>
  </constraints>
</extendedFeatureModel>
"""


def test_demo_loads_with_needs_defaults_prices_and_bom() -> None:
    model = load_native_file(DEMO)
    assert len(model.variables) == 14
    assert {n.name for n in model.needs} == {"usage", "range_km", "budget", "rider_height"}
    assert model.needs[0].label
    assert model.needs[0].help
    assert len(model.need_rules) >= 8
    assert {d.variable for d in model.defaults} == {"gears", "lights", "lock", "color"}
    assert model.base_price == 1290
    assert len(model.components) > 10
    assert any(line.condition is not None for line in model.bom)


def test_schema_document_matches_the_loader() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert set(schema["properties"]) == TOP_LEVEL_KEYS
    assert schema["required"] == ["product", "variables"]


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("product: x\nvariables:\n  a: {domain: [1, 2]\n", "line 4", "expected ','"),
        ("product: x\nvariables: {a: {domain: []}}\n", "variables.a.domain", "non-empty"),
        ("product: x\nvariables: {a: {domain: [1]}}\nextra: 1\n", "extra", "unknown top-level"),
        (
            "product: x\nvariables: {a: {domain: [1, 2]}}\nconstraints:\n  - rule: a == 1 and b\n",
            "constraints[0].rule",
            "position 11: unknown variable 'b'",
        ),
        (
            "product: x\nvariables: {a: {domain: [1, 2]}}\n"
            "constraints: [{table: {scope: [a], allowed: [[1, 2]]}}]\n",
            "constraints[0].table.rows[0]",
            "expected 1 values",
        ),
        (
            "product: x\nvariables: {a: {domain: [1, 2], default: 3}}\n",
            "variables.a.default",
            "not in the domain",
        ),
        (
            "product: x\nvariables: {a: {domain: [1, 2]}}\nbom: [{component: Z, quantity: 1}]\n",
            "bom[0]",
            "unknown component 'Z'",
        ),
    ],
)
def test_native_errors_name_the_place(text: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_native(text)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_featureide_semantics_match_hand_count() -> None:
    model = load_featureide(SMALL_FM)
    products = enumerate_products(model)
    # Engine: exactly one of 3; Extras optional (or-group if selected);
    # Electric forbids Towbar; Roofbox iff (Hybrid or Petrol).
    expected = 0
    for engine in ("Petrol", "Electric", "Hybrid"):
        for towbar in (False, True):
            for roofbox in (False, True):
                if engine == "Electric" and towbar:
                    continue
                if roofbox != (engine in ("Hybrid", "Petrol")):
                    continue
                expected += 1  # Extras is selected exactly when one of its children is
    assert len(products) == expected
    assert all(p["Car"] and p["Wheels"] and p["Engine"] for p in products)
    assert {(p.variable, p.amount) for p in model.prices} == {
        ("Car", 100.0),
        ("Petrol", 5.0),
        ("Electric", 20.0),
    }


def test_pc_richmond_loads_with_prices() -> None:
    model = load_featureide_file(PC_RICHMOND)
    assert len(model.variables) == 377
    assert len(model.prices) > 250
    assert sum(1 for c in model.constraints if c.name.startswith("rule ")) == 12


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("<featureModel>\n<struct>\n<and name='A'>\n</struct>", "line 4", "mismatched tag"),
        (
            SMALL_FM.replace("<var>Towbar</var>", "<var>Sunroof</var>"),
            "line 19",
            "unknown feature 'Sunroof'",
        ),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<featureModel/>',
            "line 2",
            "DOCTYPE",
        ),
        ("<featureModel>\n<struct/>\n</featureModel>", "line 1", "no <struct>"),
        (
            SMALL_FM.replace('name="Hybrid"', 'name="Petrol"'),
            "line 9",
            "defined twice",
        ),
    ],
)
def test_featureide_errors_name_the_line(text: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_featureide(text)
    assert caught.value.field == field
    assert reason in caught.value.reason


XCSP = """<instance>
<presentation name="tiny" format="XCSP 2.1"/>
<domains nbDomains="1"><domain name="D0" nbValues="3">0..1 5</domain></domains>
<variables nbVariables="3">
<variable name="X" domain="D0"/><variable name="Y" domain="D0"/><variable name="Z" domain="D0"/>
</variables>
<relations nbRelations="2">
<relation name="R0" arity="2" nbTuples="3" semantics="supports">0 1|1 5|5 0</relation>
<relation name="R1" arity="2" nbTuples="1" semantics="conflicts">0 0</relation>
</relations>
<constraints nbConstraints="2">
<constraint name="C0" arity="2" scope="X Y" reference="R0"/>
<constraint name="C1" arity="2" scope="Y Z" reference="R1"/>
</constraints>
</instance>
"""


def test_xcsp_supports_and_conflicts() -> None:
    model = load_xcsp(XCSP)
    products = enumerate_products(model)
    expected = [
        (x, y, z) for x, y in ((0, 1), (1, 5), (5, 0)) for z in (0, 1, 5) if (y, z) != (0, 0)
    ]
    assert sorted((p["X"], p["Y"], p["Z"]) for p in products) == sorted(expected)


def test_xcsp_round_trip_keeps_the_products() -> None:
    model = table_model(TableModelSpec(seed=3, variables=12, tables=14, big_tables=0, window=5))
    again = load_xcsp(dump_xcsp(model))
    assert len(bruteforce.solutions(again, {})) == len(bruteforce.solutions(model, {})) > 0


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ('reference="R1"', 'reference="R9"', "line 13", "unknown or unsupported relation 'R9'"),
        ('scope="Y Z"', 'scope="Y W"', "line 13", "unknown variable 'W'"),
        ("0 1|1 5|5 0", "0 1|1 5 1|5 0", "line 8", "has arity 3"),
        ("0..1 5", "0..x", "line 3", "bad domain value"),
    ],
)
def test_xcsp_errors_name_the_line(old: str, new: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_xcsp(XCSP.replace(old, new))
    assert caught.value.field == field
    assert reason in caught.value.reason
