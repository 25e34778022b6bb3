"""Configurator HTTP API: products (admin, planner) and configurations (any key).

Bad inputs tried: malformed YAML (422 naming the line), unknown format (422 on
`format`), an unavailable value (409 problem+json with the explanation), an
unknown variable and a value outside the domain (422 on `set.VAR`), an unknown
product (404), a BOM before completion (409), a rep importing a model (403),
no key (401), an extra field in the body (422).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.configurator.service_builders import TINY_XCSP, ebike_source
from tests.conftest import KeyMaker

PROBLEM = "application/problem+json"


@pytest.fixture
def planner(auth_headers: KeyMaker) -> dict[str, str]:
    return auth_headers("planner")


@pytest.fixture
def rep(auth_headers: KeyMaker) -> dict[str, str]:
    return auth_headers("rep")


@pytest.fixture
def ebike(client: TestClient, planner: dict[str, str]) -> dict[str, object]:
    response = client.post(
        "/api/v1/products?format=native",
        content=ebike_source(),
        headers={**planner, "Content-Type": "application/yaml"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_import_list_and_describe_products(
    client: TestClient, planner: dict[str, str], ebike: dict[str, object], rep: dict[str, str]
) -> None:
    assert ebike == {"id": ebike["id"], "slug": "ebike", "version": 1, "created": True}
    again = client.post("/api/v1/products", content=ebike_source(), headers=planner)
    assert again.status_code == 200
    assert again.json()["version"] == 1
    xml = {**planner, "Content-Type": "application/xml"}
    tiny = client.post("/api/v1/products?format=xcsp&slug=tiny", content=TINY_XCSP, headers=xml)
    assert tiny.status_code == 201
    listed = client.get("/api/v1/products", headers=rep).json()
    assert [p["slug"] for p in listed] == ["ebike", "tiny"]
    detail = client.get(f"/api/v1/products/{ebike['id']}", headers=rep).json()
    assert detail["version"] == 1
    assert {n["name"] for n in detail["needs"]} == {"usage", "range_km", "budget", "rider_height"}
    assert client.get("/api/v1/products/99999", headers=rep).status_code == 404


def test_product_import_errors_and_roles(
    client: TestClient, planner: dict[str, str], rep: dict[str, str]
) -> None:
    bad = client.post("/api/v1/products", content="product: x\nvariables: [a\n", headers=planner)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    assert bad.json()["errors"][0]["field"] == "line 3"
    fmt = client.post("/api/v1/products?format=excel", content="x", headers=planner)
    assert fmt.status_code == 422
    assert fmt.json()["errors"][0]["field"] == "format"
    denied = client.post("/api/v1/products", content=ebike_source(), headers=rep)
    assert denied.status_code == 403
    assert client.get("/api/v1/products").status_code == 401


def test_a_dialog_with_conflict_explain_complete_and_bom(
    client: TestClient, ebike: dict[str, object], rep: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/configurations",
        json={"product": "ebike", "needs": {"usage": "offroad"}, "contact_email": "c@x.io"},
        headers=rep,
    )
    assert created.status_code == 201, created.text
    state = created.json()
    assert set(state) >= {"id", "product_id", "version", "choices", "domains", "complete", "price"}
    assert state["choices"]["frame"] == {"value": "mtb", "set_by": "engine"}
    cid = state["id"]
    conflict = client.post(
        f"/api/v1/configurations/{cid}/choices", json={"set": {"frame": "city"}}, headers=rep
    )
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == PROBLEM
    body = conflict.json()
    assert body["conflicts"] == [{"variable": "usage", "value": "offroad"}]
    assert body["rules"]
    assert body["errors"][0]["field"] == "set.frame"
    for payload, field in (({"wheels": 3}, "set.wheels"), ({"frame": "bmx"}, "set.frame")):
        bad = client.post(
            f"/api/v1/configurations/{cid}/choices", json={"set": payload}, headers=rep
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == field
    extra = client.post(f"/api/v1/configurations/{cid}/choices", json={"sett": {}}, headers=rep)
    assert extra.status_code == 422
    why = client.get(
        f"/api/v1/configurations/{cid}/explain",
        params={"variable": "frame", "value": "city"},
        headers=rep,
    ).json()
    assert why["conflicts"] == [{"variable": "usage", "value": "offroad"}]
    assert why["available"] is False
    assert client.get(f"/api/v1/configurations/{cid}/bom", headers=rep).status_code == 409
    moved = client.post(
        f"/api/v1/configurations/{cid}/choices",
        json={"set": {"battery_wh": 750}, "unset": []},
        headers=rep,
    ).json()
    assert moved["choices"]["battery_wh"] == {"value": 750, "set_by": "user"}
    done = client.post(
        f"/api/v1/configurations/{cid}/complete", json={"objective": "min_price"}, headers=rep
    ).json()
    assert done["complete"] is True
    assert done["price"]["min"] == done["price"]["max"]
    assert client.get(f"/api/v1/configurations/{cid}", headers=rep).json() == done
    bom = client.get(f"/api/v1/configurations/{cid}/bom", headers=rep).json()
    assert bom["price"] == done["price"]["min"]
    assert bom["lines"][0]["component"] == "FRAME"
    order = client.post(f"/api/v1/configurations/{cid}/order", headers=rep)
    assert order.status_code == 201, order.text
    assert order.json()["price"] == bom["price"]
    assert order.json()["contact_email"] == "c@x.io"
    assert client.post(f"/api/v1/configurations/{cid}/order", headers=rep).status_code == 200
    assert client.get(f"/api/v1/configurations/{cid}/order", headers=rep).json() == order.json()
    frozen = client.post(
        f"/api/v1/configurations/{cid}/choices", json={"set": {"color": "white"}}, headers=rep
    )
    assert frozen.status_code == 409
    assert set(bom["lines"][0]) == {
        "component",
        "name",
        "quantity",
        "unit_price",
        "price",
        "lead_time_days",
    }


def test_unknown_product_or_configuration_is_404(client: TestClient, rep: dict[str, str]) -> None:
    missing = client.post("/api/v1/configurations", json={"product_id": 4242}, headers=rep)
    assert missing.status_code == 404
    assert client.get("/api/v1/configurations/4242", headers=rep).status_code == 404
