"""The visibility matrix: rep own / rep other / manager team / manager other team / admin /
planner / integration, for reading and editing contacts and opportunities."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import KeyMaker
from tests.sfa.builders import Org, contact, make_org, opportunity

# (viewer, owner) -> may read, may edit
MATRIX = [
    ("r1", "r1", True, True),  # rep, own record
    ("r1", "r2", False, False),  # rep, a colleague's record
    ("m1", "r1", True, True),  # manager, own team
    ("m1", "r3", False, False),  # manager, another team
    ("m2", "r3", True, True),
    ("admin", "r3", True, True),  # admin sees all
    ("planner", "r1", True, False),  # planners read contacts for campaigns
    ("integration", "r1", False, False),  # integrations only push leads
]


@pytest.mark.parametrize(("viewer", "owner", "reads", "edits"), MATRIX)
def test_contact_visibility(
    client: TestClient,
    auth_headers: KeyMaker,
    viewer: str,
    owner: str,
    reads: bool,
    edits: bool,
) -> None:
    org = make_org(client, auth_headers)
    record = contact(client, getattr(org, owner), email="v@x.io")
    who = getattr(org, viewer)
    url = f"/api/v1/contacts/{record['id']}"
    got = client.get(url, headers=who.headers)
    listed = client.get("/api/v1/contacts", headers=who.headers)
    if reads:
        assert got.status_code == 200
        assert record["id"] in [c["id"] for c in listed.json()["items"]]
    else:
        assert got.status_code in (403, 404)
        assert listed.status_code == 403 or record["id"] not in [
            c["id"] for c in listed.json()["items"]
        ]
    patched = client.patch(url, json={"job_title": "x"}, headers=who.headers)
    assert (patched.status_code == 200) is edits


@pytest.mark.parametrize(("viewer", "owner", "reads", "edits"), MATRIX)
def test_opportunity_visibility(
    client: TestClient,
    auth_headers: KeyMaker,
    viewer: str,
    owner: str,
    reads: bool,
    edits: bool,
) -> None:
    org = make_org(client, auth_headers)
    deal = opportunity(client, getattr(org, owner))
    who = getattr(org, viewer)
    url = f"/api/v1/opportunities/{deal['id']}"
    assert (client.get(url, headers=who.headers).status_code == 200) is reads
    patched = client.patch(url, json={"stage": "Qualification"}, headers=who.headers)
    assert (patched.status_code == 200) is edits


def test_deep_subtree_and_team_membership(client: TestClient, auth_headers: KeyMaker) -> None:
    """A manager sees a rep two levels down, and the members of a team they manage."""
    org: Org = make_org(client, auth_headers)
    deep = auth_headers("rep", user="deep@x.io", manager_id=org.r1.user_id)
    deal = client.post(
        "/api/v1/opportunities", json={"name": "D", "amount": "5"}, headers=deep
    ).json()
    assert client.get(f"/api/v1/opportunities/{deal['id']}", headers=org.m1.headers).is_success
    assert not client.get(f"/api/v1/opportunities/{deal['id']}", headers=org.m2.headers).is_success
    team = client.post(
        "/api/v1/teams",
        json={"name": "South", "manager_id": org.m2.user_id, "member_ids": [org.r2.user_id]},
        headers=org.admin.headers,
    )
    assert team.status_code == 201
    theirs = opportunity(client, org.r2)
    assert client.get(f"/api/v1/opportunities/{theirs['id']}", headers=org.m2.headers).is_success


def test_rep_cannot_give_records_to_others(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    response = client.post(
        "/api/v1/contacts", json={"owner_id": org.r2.user_id}, headers=org.r1.headers
    )
    assert response.status_code == 403
    ok = client.post("/api/v1/contacts", json={"owner_id": org.r2.user_id}, headers=org.m1.headers)
    assert ok.status_code == 201
    other_team = client.post(
        "/api/v1/contacts", json={"owner_id": org.r3.user_id}, headers=org.m1.headers
    )
    assert other_team.status_code == 403


def test_rep_cannot_link_a_deal_to_a_hidden_contact(
    client: TestClient, auth_headers: KeyMaker
) -> None:
    org = make_org(client, auth_headers)
    hidden = contact(client, org.r2, email="hidden@x.io")
    response = client.post(
        "/api/v1/opportunities",
        json={"name": "X", "amount": "1", "contact_id": hidden["id"]},
        headers=org.r1.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "contact_id"
