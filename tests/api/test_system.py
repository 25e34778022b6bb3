"""Health, readiness, metrics, identity, and the shape of errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import KeyMaker


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_me_returns_key_name_and_role(client: TestClient, auth_headers: KeyMaker) -> None:
    headers = auth_headers("planner", user="pablo@x.io")
    body = client.get("/api/v1/me", headers=headers).json()
    assert body["role"] == "planner"
    assert body["name"].startswith("planner-")
    assert isinstance(body["user_id"], int)
    key = headers["Authorization"].split()[1]
    assert client.get("/api/v1/me", headers={"X-API-Key": key}).status_code == 200


def test_missing_and_wrong_keys_are_401_problems(client: TestClient) -> None:
    for headers in ({}, {"Authorization": "Bearer cmp_nope"}, {"Authorization": "Basic x"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["status"] == 401


def test_wrong_role_is_403(client: TestClient, auth_headers: KeyMaker) -> None:
    response = client.get("/api/v1/apikeys", headers=auth_headers("rep"))
    assert response.status_code == 403
    assert "needs admin" in response.json()["detail"]


def test_revoked_key_is_401_at_once(client: TestClient, auth_headers: KeyMaker) -> None:
    admin = auth_headers("admin")
    created = client.post("/api/v1/apikeys", json={"name": "tmp", "role": "rep"}, headers=admin)
    assert created.status_code == 201
    rep = {"Authorization": f"Bearer {created.json()['key']}"}
    assert client.get("/api/v1/me", headers=rep).status_code == 200
    assert client.delete("/api/v1/apikeys/tmp", headers=admin).json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers=rep).status_code == 401
    listed = client.get("/api/v1/apikeys", headers=admin).json()
    assert all("key" not in item for item in listed)


def test_validation_errors_name_field_and_reason(
    client: TestClient, auth_headers: KeyMaker
) -> None:
    admin = auth_headers("admin")
    bad_inputs = [
        ({"name": "x", "role": "wizard"}, "role"),
        ({"role": "rep"}, "name"),
        ({"name": "", "role": "rep"}, "name"),
    ]
    for body, field in bad_inputs:
        response = client.post("/api/v1/apikeys", json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == [field]
    response = client.post(
        "/api/v1/users", json={"name": "A", "email": "not-an-email"}, headers=admin
    )
    assert response.json()["errors"][0]["field"] == "email"
    response = client.post(
        "/api/v1/users", json={"name": "A", "email": "a@x.io", "manager_id": 424242}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "manager_id", "reason": "no user 424242"}]


def test_conflict_and_not_found(client: TestClient, auth_headers: KeyMaker) -> None:
    admin = auth_headers("admin")
    body = {"name": "Same", "email": "same@x.io"}
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 409
    assert client.delete("/api/v1/apikeys/ghost", headers=admin).status_code == 404
    assert client.get("/api/v1/nowhere").status_code == 404


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'campana_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in text
    assert "campana_http_request_duration_seconds_bucket" in text


def test_openapi_documents_every_route_with_a_tag(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert client.get("/docs").status_code == 200
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("tags"), f"{method.upper()} {path} has no tag"
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
