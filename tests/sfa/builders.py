"""Builders for SFA tests: a small sales organisation, contacts and deals through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import KeyMaker


@dataclass(frozen=True)
class Person:
    headers: dict[str, str]
    user_id: int | None


@dataclass(frozen=True)
class Org:
    """admin; manager m1 over reps r1, r2; manager m2 over rep r3; a planner, an integration."""

    admin: Person
    m1: Person
    r1: Person
    r2: Person
    m2: Person
    r3: Person
    planner: Person
    integration: Person


def person(client: TestClient, auth_headers: KeyMaker, role: str, **kwargs: Any) -> Person:
    headers = auth_headers(role, **kwargs)
    user_id = client.get("/api/v1/me", headers=headers).json()["user_id"]
    return Person(headers, user_id)


def make_org(client: TestClient, auth_headers: KeyMaker, tag: str = "") -> Org:
    admin = person(client, auth_headers, "admin", user=f"admin{tag}@x.io")
    m1 = person(client, auth_headers, "manager", user=f"m1{tag}@x.io", manager_id=admin.user_id)
    r1 = person(client, auth_headers, "rep", user=f"r1{tag}@x.io", manager_id=m1.user_id)
    r2 = person(client, auth_headers, "rep", user=f"r2{tag}@x.io", manager_id=m1.user_id)
    m2 = person(client, auth_headers, "manager", user=f"m2{tag}@x.io", manager_id=admin.user_id)
    r3 = person(client, auth_headers, "rep", user=f"r3{tag}@x.io", manager_id=m2.user_id)
    planner = person(client, auth_headers, "planner", user=f"p{tag}@x.io")
    integration = person(client, auth_headers, "integration")
    return Org(admin, m1, r1, r2, m2, r3, planner, integration)


def contact(client: TestClient, who: Person, **fields: Any) -> dict[str, Any]:
    body = {"first_name": "Ana", "last_name": "Silva", **fields}
    response = client.post("/api/v1/contacts", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def opportunity(client: TestClient, who: Person, **fields: Any) -> dict[str, Any]:
    body = {"name": "Deal", "amount": "1000.00", **fields}
    response = client.post("/api/v1/opportunities", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
