"""Whole configuration dialogs against a real `campana serve` process.

The demo e-bike (loaded by `campana demo`) and pc-richmond (imported through
`POST /products?format=featureide`) are configured by a seeded simulated
customer who only ever picks offered values: every step must be accepted,
the dialog must end complete, the product must satisfy every rule of the
model (checked by direct evaluation, not by the solver), its price must equal
the model's price of that product, and the BOM must add up.

Bad inputs tried: none on purpose here (see tests/api/test_configurator_api.py);
a refused offered value would be a backtrack-free failure.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from configurator.formats.featureide import load_featureide
from configurator.formats.native import load_native
from configurator.model import ProductModel, violations
from configurator.pricing import bill_of_materials, price
from tests.configurator.service_builders import PC_RICHMOND, ebike_source
from tests.conftest import DatabaseServer
from tests.e2e.server import campana_cli, campana_env, running_server

MAX_STEPS = 1000


@pytest.fixture(scope="module")
def server(
    database_server: DatabaseServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    env = campana_env(database_server.fresh(), tmp_path_factory.mktemp("configure"))
    campana_cli("migrate", env=env)
    campana_cli("demo", env=env)
    with running_server(env, role="planner") as (base, key):
        auth = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
            yield client


def _dialog(client: httpx.Client, start: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Pick offered values of open variables until complete; returns the final state."""
    created = client.post("/api/v1/configurations", json=start)
    assert created.status_code == 201, created.text
    state: dict[str, Any] = created.json()
    cid = state["id"]
    for _ in range(MAX_STEPS):
        if state["complete"]:
            return state
        open_vars = sorted(
            name
            for name, values in state["domains"].items()
            if len(values) > 1 and state["choices"].get(name, {}).get("set_by") != "user"
        )
        assert open_vars, f"incomplete with nothing left to choose: {state}"
        name = rng.choice(open_vars)
        value = rng.choice(state["domains"][name])
        step = client.post(f"/api/v1/configurations/{cid}/choices", json={"set": {name: value}})
        assert step.status_code == 200, f"offered {name}={value!r} refused: {step.text}"
        state = step.json()
        assert state["price"]["min"] <= state["price"]["max"]
    raise AssertionError(f"no complete product after {MAX_STEPS} choices")


def _check_product(
    client: httpx.Client, model: ProductModel, state: dict[str, Any]
) -> dict[str, Any]:
    product = {k: c["value"] for k, c in state["choices"].items() if k in model.variable_map}
    assert set(product) == set(model.variable_map)
    env = {**product, **{k: c["value"] for k, c in state["choices"].items()}}
    assert violations(model, env) == []
    assert state["price"]["min"] == state["price"]["max"] == price(model, product)
    assert client.get(f"/api/v1/configurations/{state['id']}").json() == state
    bom = client.get(f"/api/v1/configurations/{state['id']}/bom")
    assert bom.status_code == 200, bom.text
    body: dict[str, Any] = bom.json()
    assert body["price"] == state["price"]["min"]
    assert body["cost"] == pytest.approx(sum(line["price"] for line in body["lines"]))
    expected = bill_of_materials(model, product)
    assert [(line["component"], line["quantity"]) for line in body["lines"]] == [
        (item.component, item.quantity) for item in expected.items
    ]
    return body


def test_ebike_dialogs_from_needs_to_bom(server: httpx.Client) -> None:
    model = load_native(ebike_source())
    products = server.get("/api/v1/products").json()
    assert [p["slug"] for p in products] == ["ebike"]
    for seed, needs in enumerate(({"usage": "touring"}, {"usage": "offroad"}, {})):
        final = _dialog(server, {"product": "ebike", "needs": needs}, random.Random(seed))
        bom = _check_product(server, model, final)
        assert any(line["component"] == "FRAME" for line in bom["lines"])


def test_ebike_completion_after_a_few_choices(server: httpx.Client) -> None:
    model = load_native(ebike_source())
    state = server.post(
        "/api/v1/configurations", json={"product": "ebike", "needs": {"usage": "commute"}}
    ).json()
    server.post(f"/api/v1/configurations/{state['id']}/choices", json={"set": {"color": "petrol"}})
    done = server.post(f"/api/v1/configurations/{state['id']}/complete", json={}).json()
    assert done["choices"]["color"] == {"value": "petrol", "set_by": "user"}
    _check_product(server, model, done)


def test_pc_richmond_dialog(server: httpx.Client) -> None:
    source = PC_RICHMOND.read_bytes()
    created = server.post(
        "/api/v1/products?format=featureide&slug=pc-richmond",
        content=source,
        headers={"Content-Type": "application/xml"},
    )
    assert created.status_code == 201, created.text
    model = load_featureide(source, name="pc-richmond")
    final = _dialog(server, {"product": "pc-richmond"}, random.Random(7))
    _check_product(server, model, final)
