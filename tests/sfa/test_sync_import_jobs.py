"""Mobile sync with tombstones, CSV contact import, the reactivation job, proposals."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import FrozenClock
from sfa.jobs import create_reactivation_tasks
from sfa.models import Activity
from tests.conftest import KeyMaker
from tests.sfa.builders import contact, make_org, opportunity


def test_sync_returns_changes_and_tombstones_since_cursor(
    client: TestClient, auth_headers: KeyMaker, clock: FrozenClock
) -> None:
    org = make_org(client, auth_headers)
    mine = contact(client, org.r1, email="s1@x.io")
    contact(client, org.r2, email="not-mine@x.io")
    deal = opportunity(client, org.r1, contact_id=mine["id"])
    first = client.get("/api/v1/sync", headers=org.r1.headers).json()
    assert [c["id"] for c in first["contacts"]] == [mine["id"]]
    assert [o["id"] for o in first["opportunities"]] == [deal["id"]]
    assert first["has_more"] is False
    nothing = client.get(
        "/api/v1/sync", params={"since": first["cursor"]}, headers=org.r1.headers
    ).json()
    assert nothing["contacts"] == nothing["opportunities"] == nothing["deleted"] == []
    clock.advance(timedelta(minutes=1))
    client.delete(f"/api/v1/contacts/{mine['id']}", headers=org.r1.headers)
    client.patch(
        f"/api/v1/opportunities/{deal['id']}", json={"stage": "Proposal"}, headers=org.r1.headers
    )
    later = client.get(
        "/api/v1/sync", params={"since": first["cursor"]}, headers=org.r1.headers
    ).json()
    assert [(t["type"], t["id"]) for t in later["deleted"]] == [("contact", mine["id"])]
    assert [o["stage"] for o in later["opportunities"]] == ["Proposal"]


def test_sync_pages_and_rejects_bad_cursor(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: not base64 JSON, an unknown record type, a position that is not a pair."""
    org = make_org(client, auth_headers)
    for n in range(5):
        contact(client, org.r1, email=f"p{n}@x.io")
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2, **({"since": cursor} if cursor else {})}
        page = client.get("/api/v1/sync", params=params, headers=org.r1.headers).json()
        seen += [c["id"] for c in page["contacts"]]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 5
    for bad in ("%%%", "eyJjIjoxfQ", "eyJjb250YWN0IjoxfQ"):
        response = client.get("/api/v1/sync", params={"since": bad}, headers=org.r1.headers)
        assert response.status_code == 422


CSV = """first_name,last_name,email,phone,country,owner_email,consent_email,preferred_channel
Ana,Silva,ana@x.io,912345678,PT,r1@x.io,yes,email
Bad,Email,not-an-email,,PT,,,
Rui,Costa,RUI@x.io,,PT,,no,
Dup,Row,ana@x.io,,PT,,,
Nobody,Owner,n@x.io,,PT,ghost@x.io,,
Zed,Channel,z@x.io,,PT,,,pigeon
"""


def test_contact_import_keeps_good_rows_and_reports_bad_ones(
    client: TestClient, auth_headers: KeyMaker
) -> None:
    """Bad inputs: invalid email, duplicate of an earlier row, unknown owner, unknown channel,
    a contact that already exists."""
    org = make_org(client, auth_headers)
    contact(client, org.r1, email="taken@x.io")
    body = CSV + "Old,One,taken@x.io,,PT,,,\n"
    response = client.post(
        "/api/v1/imports/contacts",
        files={"file": ("contacts.csv", body.encode(), "text/csv")},
        headers=org.m1.headers,
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows"], report["imported"], report["rejected"]) == (7, 2, 5)
    assert [(e["line"], e["reason"].split(":")[0]) for e in report["errors"]] == [
        (3, "email"),
        (5, "duplicate of an earlier row (email or phone)"),
        (6, "owner_email"),
        (7, "preferred_channel"),
        (8, "a live contact already has this email or phone"),
    ]
    found = client.get(
        "/api/v1/contacts", params={"email": "ana@x.io"}, headers=org.m1.headers
    ).json()["items"]
    assert found[0]["owner_id"] == org.r1.user_id
    assert found[0]["phone"] == "+351912345678"


def test_rep_cannot_import_for_others(client: TestClient, auth_headers: KeyMaker) -> None:
    org = make_org(client, auth_headers)
    body = "email,owner_email\nx@x.io,r2@x.io\n"
    response = client.post(
        "/api/v1/imports/contacts",
        content=body,
        headers={**org.r1.headers, "content-type": "text/csv"},
    )
    assert response.json()["rejected"] == 1
    assert "may not assign" in response.json()["errors"][0]["reason"]


def test_reactivation_job_creates_one_follow_up(
    client: TestClient, auth_headers: KeyMaker, session: Session, clock: FrozenClock
) -> None:
    org = make_org(client, auth_headers)
    person = contact(client, org.r1, email="r@x.io")
    quiet = opportunity(client, org.r1, contact_id=person["id"])
    busy = opportunity(client, org.r1, name="Busy")
    clock.advance(timedelta(days=20))
    client.post(
        "/api/v1/activities",
        json={"kind": "call", "subject": "chat", "opportunity_id": busy["id"]},
        headers=org.r1.headers,
    )
    assert create_reactivation_tasks(session, clock=clock) == 1
    assert create_reactivation_tasks(session, clock=clock) == 0  # idempotent
    task = session.scalars(select(Activity).where(Activity.origin == "reactivation")).one()
    assert (task.opportunity_id, task.owner_id, task.kind) == (quiet["id"], org.r1.user_id, "task")


def test_proposal_totals_and_status(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: no lines, accepting a draft directly, a zero quantity."""
    org = make_org(client, auth_headers)
    deal = opportunity(client, org.r1, contact_id=contact(client, org.r1, email="q@x.io")["id"])
    lines = [
        {"description": "Widget", "quantity": 3, "unit_price": "19.99"},
        {
            "description": "Configured pump",
            "quantity": 1,
            "unit_price": "1000.00",
            "product_ref": "pump-x",
            "specification": {"flow": "40 m3/h"},
        },
    ]
    made = client.post(
        "/api/v1/proposals",
        json={"title": "Q-1", "opportunity_id": deal["id"], "lines": lines},
        headers=org.r1.headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["total"] == "1059.97"
    assert made.json()["lines"][1]["specification"] == {"flow": "40 m3/h"}
    url = f"/api/v1/proposals/{made.json()['id']}"
    assert client.patch(url, json={"status": "accepted"}, headers=org.r1.headers).status_code == 409
    assert client.patch(url, json={"status": "sent"}, headers=org.r1.headers).status_code == 200
    accepted = client.patch(url, json={"status": "accepted"}, headers=org.r1.headers)
    assert accepted.json()["status"] == "accepted"
    empty = client.post(
        "/api/v1/proposals",
        json={"title": "Q-2", "opportunity_id": deal["id"], "lines": []},
        headers=org.r1.headers,
    )
    assert empty.status_code == 422
    zero = {"description": "x", "quantity": 0, "unit_price": "1"}
    bad = client.post(
        "/api/v1/proposals",
        json={"title": "Q-3", "opportunity_id": deal["id"], "lines": [zero]},
        headers=org.r1.headers,
    )
    assert bad.json()["errors"][0]["field"] == "lines.0.quantity"


def test_contact_import_links_accounts_by_name(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad input: an account name nobody created."""
    org = make_org(client, auth_headers)
    account = client.post("/api/v1/accounts", json={"name": "Tejo Lda"}, headers=org.r1.headers)
    body = "email,account\nk1@x.io,tejo lda\nk2@x.io,Nowhere Inc\n"
    report = client.post(
        "/api/v1/imports/contacts",
        content=body,
        headers={**org.r1.headers, "content-type": "text/csv"},
    ).json()
    assert report["imported"] == 1
    assert report["errors"] == [{"line": 3, "reason": "account: no account named 'Nowhere Inc'"}]
    linked = client.get(
        "/api/v1/contacts", params={"account_id": account.json()["id"]}, headers=org.r1.headers
    ).json()["items"]
    assert [c["email"] for c in linked] == ["k1@x.io"]
