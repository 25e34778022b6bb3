"""Lead ingestion: idempotency keys, HMAC signatures, normalisation, dedup, the log."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from core.events import EventBus
from sfa import leads
from sfa.events import LeadCreated
from sfa.leads import sign
from sfa.models import Contact
from tests.builders import T0
from tests.conftest import KeyMaker
from tests.sfa.builders import make_org

LEAD = {"email": "Lead@Example.com", "phone": "912345678", "country": "PT", "source": "form"}


def test_lead_creates_contact_then_dedups(
    client: TestClient, auth_headers: KeyMaker, bus: EventBus
) -> None:
    seen: list[LeadCreated] = []
    bus.subscribe(LeadCreated, lambda _s, e: seen.append(e))
    org = make_org(client, auth_headers)
    first = client.post("/api/v1/leads", json=LEAD, headers=org.integration.headers)
    assert first.status_code == 201
    assert first.json()["outcome"] == "created"
    again = client.post(
        "/api/v1/leads",
        json={"phone": "+351 912 345 678", "source": "fair"},
        headers=org.integration.headers,
    )
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["contact_id"] == first.json()["contact_id"]
    assert [e.duplicate for e in seen] == [False, True]
    contact = client.get(
        f"/api/v1/contacts/{first.json()['contact_id']}", headers=org.admin.headers
    ).json()
    assert contact["email"] == "lead@example.com"
    assert contact["phone"] == "+351912345678"


def test_idempotency_key_replays_and_conflicts(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    headers = {**org.integration.headers, "Idempotency-Key": "k-1"}
    first = client.post("/api/v1/leads", json=LEAD, headers=headers)
    replay = client.post("/api/v1/leads", json=LEAD, headers=headers)
    assert replay.status_code == first.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replay"] == "true"
    other = client.post("/api/v1/leads", json={**LEAD, "source": "x"}, headers=headers)
    assert other.status_code == 409
    log = client.get("/api/v1/leads/ingestions", headers=org.admin.headers).json()
    assert [row["outcome"] for row in log] == ["created"]


def test_rejections_are_logged_with_reason(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: invalid email, unparseable phone, neither email nor phone, not JSON."""
    org = make_org(client, auth_headers)
    bodies: list[str] = [
        json.dumps({"email": "nope"}),
        json.dumps({"phone": "abc", "country": "PT"}),
        json.dumps({"first_name": "Only"}),
        "{not json",
    ]
    for body in bodies:
        response = client.post(
            "/api/v1/leads",
            content=body,
            headers={**org.integration.headers, "content-type": "application/json"},
        )
        assert response.status_code == 422, body
        assert response.json()["outcome"] == "rejected"
    log = client.get("/api/v1/leads/ingestions", headers=org.admin.headers).json()
    reasons = [row["reason"] for row in reversed(log)]
    assert [r.split(":")[0] for r in reasons] == ["email", "phone", "email", "body"]


def test_signed_webhook(client: TestClient, auth_headers: KeyMaker, clock: FrozenClock) -> None:
    """Bad inputs: wrong secret, stale timestamp, unknown integration, tampered body."""
    org = make_org(client, auth_headers)
    made = client.post("/api/v1/integrations", json={"name": "forms"}, headers=org.admin.headers)
    secret = made.json()["secret"]
    body = json.dumps(LEAD).encode()
    now = str(int(clock.now().timestamp()))

    def post(
        signature: str, timestamp: str = now, name: str = "forms", content: bytes = body
    ) -> Any:
        headers = {
            "content-type": "application/json",
            "X-Campana-Integration": name,
            "X-Campana-Timestamp": timestamp,
            "X-Campana-Signature": signature,
        }
        return client.post("/api/v1/leads", content=content, headers=headers)

    assert post(sign(secret, now, body)).status_code == 201
    assert post(sign("wrong", now, body)).status_code == 401
    stale = str(int((clock.now() - timedelta(minutes=6)).timestamp()))
    assert post(sign(secret, stale, body), timestamp=stale).status_code == 401
    assert post(sign(secret, now, body), name="other").status_code == 401
    assert post(sign(secret, now, body), content=body + b" ").status_code == 401
    unsigned = client.post("/api/v1/leads", json=LEAD)
    assert unsigned.status_code == 401


def test_only_integrations_push_leads(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    assert client.post("/api/v1/leads", json=LEAD, headers=org.r1.headers).status_code == 403
    assert (
        client.post("/api/v1/integrations", json={"name": "x"}, headers=org.m1.headers).status_code
        == 403
    )


def test_lead_status_changes(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: an unknown status, another rep's lead."""
    org = make_org(client, auth_headers)
    pushed = client.post(
        "/api/v1/leads", json={**LEAD, "owner_email": "r1@x.io"}, headers=org.integration.headers
    ).json()
    url = f"/api/v1/leads/{pushed['lead_id']}"
    ok = client.patch(url, json={"status": "qualified"}, headers=org.r1.headers)
    assert ok.json()["status"] == "qualified"
    bad = client.patch(url, json={"status": "maybe"}, headers=org.r1.headers)
    assert bad.json()["errors"][0]["field"] == "status"
    assert client.patch(url, json={"status": "open"}, headers=org.r2.headers).status_code == 404
    leads = client.get("/api/v1/leads", headers=org.r1.headers).json()
    assert [lead["id"] for lead in leads] == [pushed["lead_id"]]


def test_contact_created_concurrently_after_the_lookup_makes_a_duplicate(
    session: Session,
) -> None:
    """Bad input: a lead whose new email (then phone) a concurrent request inserted as a live
    contact between `find_live_contact` and the insert; the unique index refuses the insert.
    """
    raced = Contact(
        email="race@x.io", phone="+351912000999", attributes={}, created_at=T0, updated_at=T0
    )
    session.add(raced)
    session.flush()
    for email, phone in (("race@x.io", None), (None, "+351912000999")):
        data = leads.LeadIn(email=email, phone=phone, source="race")
        contact, duplicate = leads._new_or_live_contact(
            session, data, email, phone, None, None, "key:race", T0
        )
        assert (contact.id, duplicate) == (raced.id, True)
    assert session.scalar(select(func.count()).select_from(Contact)) == 1
