"""Reports and delivery history through the API, with web and post channels and suppressions.

Bad inputs tried: a suppressed address (skipped with the reason), a contact
without a postal address, a duplicate suppression (409), an unknown contact
(404), a rep reading a report (403), a landing page token of another kind.
"""

from __future__ import annotations

import csv
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_dispatcher
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings
from tests.channels import builders
from tests.conftest import KeyMaker


def _drain(factory: sessionmaker[Session], settings: Settings, clock: FrozenClock) -> None:
    build_dispatcher(settings).drain(JobContext(factory, settings, clock))


def test_report_per_step_and_channel_and_why_each_contact_got_what(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    auth_headers: KeyMaker,
) -> None:
    planner = auth_headers("planner")
    suppressed = builders.contact(session)
    letter = builders.contact(
        session, consents=("post",), preferred_channel="post", postal_address="1 Main St, Lisbon"
    )
    homeless = builders.contact(session, consents=("post", "email"), preferred_channel="post")
    fine = builders.contact(session, consents=("email", "web"))
    session.commit()
    address = suppressed.email or ""
    made = client.post(
        "/api/v1/suppressions",
        json={"channel": "email", "address": address.upper(), "reason": "complaint"},
        headers=planner,
    )
    assert made.status_code == 201
    again = client.post(
        "/api/v1/suppressions",
        json={"channel": "email", "address": suppressed.email},
        headers=planner,
    )
    assert again.status_code == 409
    content = {"email": builders.template(session), "post": builders.template(session, "post")}
    builders.outbox(
        session,
        [suppressed.id, letter.id, homeless.id, fine.id],
        content,
        campaign_id=7,
        step_id="intro",
    )
    builders.outbox(
        session,
        [fine.id],
        {"web": builders.template(session, "web")},
        campaign_id=7,
        step_id="page",
    )
    session.commit()
    _drain(session_factory, settings, clock)

    rows = client.get("/api/v1/campaigns/7/report", headers=planner).json()["rows"]
    summary = {(r["step_id"], r["channel"]): (r["sent"], r["skipped"], r["failed"]) for r in rows}
    assert summary == {
        ("intro", None): (0, 1, 0),
        ("intro", "email"): (2, 0, 0),  # the contact without an address fell back to email
        ("intro", "post"): (1, 0, 0),
        ("page", "web"): (1, 0, 0),
    }
    why = client.get(f"/api/v1/contacts/{suppressed.id}/deliveries", headers=planner).json()
    assert why["deliveries"][0]["state"] == "skipped"
    assert why["deliveries"][0]["reason"] == (
        "email: address on the suppression list; post: consent not given"
    )
    with next(Path(settings.data_dir, "post").glob("*.csv")).open() as handle:
        letters = list(csv.DictReader(handle))
    assert [(r["name"], r["address"]) for r in letters] == [
        (f"{letter.first_name} Silva", "1 Main St, Lisbon")
    ]
    page = client.get(f"/api/v1/contacts/{fine.id}/deliveries", headers=planner).json()
    assert [d["channel"] for d in page["deliveries"]] == ["email", "web"]

    assert client.get("/api/v1/campaigns/7/report", headers=auth_headers("rep")).status_code == 403
    assert client.get("/api/v1/contacts/999999/deliveries", headers=planner).status_code == 404
    listed = client.get("/api/v1/suppressions?channel=email", headers=planner).json()
    assert [s["address"] for s in listed] == [suppressed.email]
    assert (
        client.delete(f"/api/v1/suppressions/{listed[0]['id']}", headers=planner).status_code == 204
    )


def test_the_web_channel_publishes_a_signed_landing_page(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    person = builders.contact(session, consents=("web",), first_name="Zé")
    ids = builders.outbox(session, [person.id], {"web": builders.template(session, "web")})
    session.commit()
    _drain(session_factory, settings, clock)
    signer = build_dispatcher(settings).renderer.signer
    page = client.get(f"/t/w/{signer.sign('w', ids[0])}")
    assert page.status_code == 200
    assert "<h1>Welcome Zé</h1>" in page.text
    assert client.get(f"/t/w/{signer.sign('o', ids[0])}").status_code == 404
