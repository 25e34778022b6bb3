"""Visibility holds on the routes of other modules that expose SFA contacts.

Tried: a manager reading a contact outside their team through deliveries,
segment contact lists and previews, and the suppression list.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import KeyMaker
from tests.sfa.builders import contact, make_org


def test_managers_see_deliveries_of_their_team_only(
    client: TestClient, auth_headers: KeyMaker
) -> None:
    org = make_org(client, auth_headers)
    theirs = contact(client, org.r1, email="team@x.io")
    other = contact(client, org.r3, email="other@x.io")
    url = "/api/v1/contacts/{}/deliveries"
    assert client.get(url.format(theirs["id"]), headers=org.m1.headers).status_code == 200
    assert client.get(url.format(other["id"]), headers=org.m1.headers).status_code == 404
    assert client.get(url.format(other["id"]), headers=org.planner.headers).status_code == 200


def test_segment_members_and_suppressions_are_for_planners(
    client: TestClient, auth_headers: KeyMaker
) -> None:
    org = make_org(client, auth_headers)
    contact(client, org.r3, email="hidden@x.io", country="PT")
    rules = {"field": "country", "op": "eq", "value": "PT"}
    created = client.post(
        "/api/v1/segments", json={"name": "pt", "rules": rules}, headers=org.planner.headers
    )
    sid = created.json()["id"]
    manager = org.m1.headers
    assert client.get(f"/api/v1/segments/{sid}/count", headers=manager).status_code == 200
    for path in (f"/api/v1/segments/{sid}/contacts", f"/api/v1/segments/{sid}/preview"):
        assert client.get(path, headers=manager).status_code == 403
        assert client.get(path, headers=org.planner.headers).status_code == 200
    preview = client.post("/api/v1/segments/preview", json={"rules": rules}, headers=manager)
    assert preview.status_code == 403
    assert client.get("/api/v1/suppressions", headers=manager).status_code == 403
    assert client.get("/api/v1/suppressions", headers=org.planner.headers).status_code == 200


def test_a_configuration_attaches_only_to_a_visible_contact(
    client: TestClient, auth_headers: KeyMaker, session_factory: sessionmaker[Session]
) -> None:
    """Tried: a rep attaching another team's contact (whose order would convert for them)."""
    from configurator import demo
    from core.clock import SystemClock

    org = make_org(client, auth_headers)
    with session_factory() as session, session.begin():
        demo.load(session, SystemClock())
    own = contact(client, org.r1, email="mine@x.io")
    other = contact(client, org.r3, email="theirs@x.io")
    body = {"product": "ebike", "needs": {}}
    url = "/api/v1/configurations"
    mine = client.post(url, json={**body, "contact_id": own["id"]}, headers=org.r1.headers)
    assert mine.status_code == 201
    theirs = client.post(url, json={**body, "contact_id": other["id"]}, headers=org.r1.headers)
    assert theirs.status_code == 404
