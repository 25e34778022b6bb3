"""Activities, the timeline across modules, and merging duplicate contacts."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.auth import SYSTEM
from core.clock import FrozenClock
from core.events import EventBus
from sfa import service
from sfa.activities import ActivityCreate, ActivityKind
from sfa.events import ContactMerged
from tests.builders import T0
from tests.conftest import KeyMaker
from tests.sfa.builders import contact, make_org, opportunity


def test_activities_and_reminders(client: TestClient, auth_headers: KeyMaker) -> None:
    """Bad inputs: no contact/lead/opportunity, another rep's contact."""
    org = make_org(client, auth_headers)
    person = contact(client, org.r1, email="a@x.io")
    task = client.post(
        "/api/v1/activities",
        json={
            "kind": "task",
            "subject": "Send brochure",
            "contact_id": person["id"],
            "due_at": "2026-03-03T09:00:00Z",
        },
        headers=org.r1.headers,
    )
    assert task.status_code == 201
    assert task.json()["done_at"] is None
    due = client.get(
        "/api/v1/activities",
        params={"due_before": "2026-03-04T00:00:00Z"},
        headers=org.r1.headers,
    ).json()
    assert [a["id"] for a in due] == [task.json()["id"]]
    done = client.patch(
        f"/api/v1/activities/{task.json()['id']}", json={"done": True}, headers=org.r1.headers
    )
    assert done.json()["done_at"] is not None
    none = client.post(
        "/api/v1/activities", json={"kind": "note", "subject": "x"}, headers=org.r1.headers
    )
    assert none.status_code == 422
    other = client.post(
        "/api/v1/activities",
        json={"kind": "call", "subject": "x", "contact_id": person["id"]},
        headers=org.r2.headers,
    )
    assert other.status_code == 422


def test_create_activity_service_for_other_modules(
    client: TestClient, auth_headers: KeyMaker, session: Session, clock: FrozenClock
) -> None:
    org = make_org(client, auth_headers)
    deal = opportunity(client, org.r1, contact_id=contact(client, org.r1, email="b@x.io")["id"])
    data = ActivityCreate(
        kind=ActivityKind.TASK, subject="Call back", opportunity_id=deal["id"], due_at=T0
    )
    activity = service.create_activity(session, data, actor=SYSTEM, clock=clock)
    assert activity.owner_id == org.r1.user_id
    assert activity.contact_id == deal["contact_id"]
    entry = service.add_timeline_entry(
        session, deal["contact_id"], "email.opened", "Opened the newsletter",
        module="ema", ref="campaign:3", occurred_at=T0,
    )  # fmt: skip
    session.flush()
    assert entry.id is not None


def test_timeline_is_newest_first_and_paginated(
    client: TestClient, auth_headers: KeyMaker, clock: FrozenClock
) -> None:
    org = make_org(client, auth_headers)
    person = contact(client, org.r1, email="t@x.io")
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        client.post(
            "/api/v1/activities",
            json={"kind": "note", "subject": f"note {n}", "contact_id": person["id"]},
            headers=org.r1.headers,
        )
    url = f"/api/v1/contacts/{person['id']}/timeline"
    first = client.get(url, params={"limit": 4}, headers=org.r1.headers).json()
    rest = client.get(
        url, params={"limit": 4, "cursor": first["next_cursor"]}, headers=org.r1.headers
    ).json()
    summaries = [e["summary"] for e in first["items"] + rest["items"]]
    assert summaries[:5] == [f"note {n}" for n in (4, 3, 2, 1, 0)]
    assert summaries[-1].startswith("Contact created")
    assert rest["next_cursor"] is None


def test_merge_moves_everything_and_keeps_history(
    client: TestClient, auth_headers: KeyMaker, bus: EventBus
) -> None:
    """Bad inputs: merging into itself, merging an already merged contact."""
    merged: list[ContactMerged] = []
    bus.subscribe(ContactMerged, lambda _s, e: merged.append(e))
    org = make_org(client, auth_headers)
    keep = contact(client, org.r1, email="keep@x.io")
    dup = contact(
        client,
        org.r1,
        phone="+351912000111",
        job_title="Buyer",
        consents=[{"channel": "sms", "granted": True, "source": "form"}],
    )
    deal = opportunity(client, org.r1, contact_id=dup["id"])
    response = client.post(
        f"/api/v1/contacts/{keep['id']}/merge",
        json={"duplicate_id": dup["id"]},
        headers=org.r1.headers,
    )
    assert response.status_code == 200, response.text
    survivor = response.json()
    assert survivor["phone"] == "+351912000111"
    assert survivor["job_title"] == "Buyer"
    assert [c["channel"] for c in survivor["consents"]] == ["sms"]
    loser = client.get(f"/api/v1/contacts/{dup['id']}", headers=org.r1.headers).json()
    assert loser["merged_into_id"] == keep["id"]
    moved = client.get(f"/api/v1/opportunities/{deal['id']}", headers=org.r1.headers).json()
    assert moved["contact_id"] == keep["id"]
    timeline = client.get(f"/api/v1/contacts/{keep['id']}/timeline", headers=org.r1.headers).json()[
        "items"
    ]
    assert {e["original_contact_id"] for e in timeline} == {None, dup["id"]}
    assert merged == [ContactMerged(survivor_id=keep["id"], loser_id=dup["id"])]
    again = client.post(
        f"/api/v1/contacts/{keep['id']}/merge",
        json={"duplicate_id": dup["id"]},
        headers=org.r1.headers,
    )
    assert again.status_code == 409
    itself = client.post(
        f"/api/v1/contacts/{keep['id']}/merge",
        json={"duplicate_id": keep["id"]},
        headers=org.r1.headers,
    )
    assert itself.status_code == 422
