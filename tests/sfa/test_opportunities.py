"""Opportunities: stages by name, the change log, won/lost events, configurable stages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core.events import EventBus
from sfa.events import OpportunityLost, OpportunityWon
from tests.conftest import KeyMaker
from tests.sfa.builders import contact, make_org, opportunity


def test_default_pipeline_exists(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    stages = client.get("/api/v1/pipeline/stages", headers=org.r1.headers).json()
    assert [(s["name"], s["probability"], s["kind"]) for s in stages] == [
        ("Prospecting", 10, "open"),
        ("Qualification", 20, "open"),
        ("Proposal", 50, "open"),
        ("Negotiation", 70, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]


def test_stage_moves_are_logged_and_publish_won(
    client: TestClient, auth_headers: KeyMaker, bus: EventBus
) -> None:
    won: list[OpportunityWon] = []
    bus.subscribe(OpportunityWon, lambda _s, e: won.append(e))
    org = make_org(client, auth_headers)
    person = contact(client, org.r1, email="buyer@x.io")
    deal = opportunity(
        client, org.r1, contact_id=person["id"], amount="2500.50", source_campaign_id=7
    )
    assert deal["stage"] == "Prospecting"
    assert deal["amount"] == "2500.50"
    url = f"/api/v1/opportunities/{deal['id']}"
    for stage in ("qualification", "Proposal", "Won"):
        response = client.patch(url, json={"stage": stage}, headers=org.r1.headers)
        assert response.status_code == 200, response.text
    body = client.get(url, headers=org.r1.headers).json()
    assert body["stage_kind"] == "won"
    assert body["closed_at"] is not None
    history = client.get(f"{url}/history", headers=org.r1.headers).json()
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        (None, "Prospecting"),
        ("Prospecting", "Qualification"),
        ("Qualification", "Proposal"),
        ("Proposal", "Won"),
    ]
    assert all(h["changed_by"] == org.r1.user_id for h in history)
    assert [(e.opportunity_id, e.source_campaign_id, e.amount_minor) for e in won] == [
        (deal["id"], 7, 250050)
    ]
    timeline = client.get(f"/api/v1/contacts/{person['id']}/timeline", headers=org.r1.headers)
    items = timeline.json()["items"]
    assert next(i["kind"] for i in items if i["module"] == "sfa") == "opportunity.won"
    assert "contact.converted" in [i["kind"] for i in items if i["module"] == "ema"]


def test_lost_publishes_and_bad_stage_is_422(
    client: TestClient, auth_headers: KeyMaker, bus: EventBus
) -> None:
    """Bad inputs: unknown stage name, negative amount, lowercase currency."""
    lost: list[OpportunityLost] = []
    bus.subscribe(OpportunityLost, lambda _s, e: lost.append(e))
    org = make_org(client, auth_headers)
    deal = opportunity(client, org.r1)
    url = f"/api/v1/opportunities/{deal['id']}"
    bad = client.patch(url, json={"stage": "Dreaming"}, headers=org.r1.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "stage"
    for body, field in (({"amount": "-1"}, "amount"), ({"currency": "eur"}, "currency")):
        response = client.patch(url, json=body, headers=org.r1.headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
    assert client.patch(url, json={"stage": "Lost"}, headers=org.r1.headers).status_code == 200
    assert [e.opportunity_id for e in lost] == [deal["id"]]


def test_opportunity_etag_and_if_match(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    deal = opportunity(client, org.r1)
    url = f"/api/v1/opportunities/{deal['id']}"
    etag = client.get(url, headers=org.r1.headers).headers["etag"]
    assert client.get(url, headers={**org.r1.headers, "If-None-Match": etag}).status_code == 304
    ok = client.patch(url, json={"amount": "10"}, headers={**org.r1.headers, "If-Match": etag})
    assert ok.status_code == 200
    stale = client.patch(url, json={"amount": "11"}, headers={**org.r1.headers, "If-Match": etag})
    assert stale.status_code == 412


def test_stages_are_configurable(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: duplicate name, probability 150, rep creating a stage, deleting a used one."""
    org = make_org(client, auth_headers)
    made = client.post(
        "/api/v1/pipeline/stages",
        json={"name": "Demo", "position": 3, "probability": 35},
        headers=org.m1.headers,
    )
    assert made.status_code == 201
    dup = {"name": "demo", "position": 9, "probability": 1}
    assert (
        client.post("/api/v1/pipeline/stages", json=dup, headers=org.m1.headers).status_code == 409
    )
    over = {"name": "X", "position": 9, "probability": 150}
    assert (
        client.post("/api/v1/pipeline/stages", json=over, headers=org.m1.headers).status_code == 422
    )
    assert (
        client.post("/api/v1/pipeline/stages", json=over, headers=org.r1.headers).status_code == 403
    )
    stage_id = made.json()["id"]
    patched = client.patch(
        f"/api/v1/pipeline/stages/{stage_id}", json={"probability": 40}, headers=org.m1.headers
    )
    assert patched.json()["probability"] == 40
    opportunity(client, org.r1, stage="Demo")
    used = client.delete(f"/api/v1/pipeline/stages/{stage_id}", headers=org.m1.headers)
    assert used.status_code == 409
