"""Tracking end to end through the API: pixel, click, unsubscribe, bounces, SMS, report.

Bad inputs tried: a token with a flipped signature byte, a token whose payload
names another message, an open token used as a click token, a made-up token,
a scanner's user agent, a click seconds after delivery, a DSN that is not
one, an SMS callback without the gateway token, an unknown receipt reference.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_dispatcher
from channels.models import Suppression
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings
from ema.returns import Return
from sfa.models import Consent
from tests.channels import builders
from tests.conftest import KeyMaker

BROWSER = {"User-Agent": "Mozilla/5.0 (Macintosh) Firefox/130.0"}


def _send(
    session: Session,
    factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    n: int = 1,
) -> tuple[list[int], list[str]]:
    people = [builders.contact(session) for _ in range(n)]
    ids = builders.outbox(
        session, [p.id for p in people], {"email": builders.template(session)}, campaign_id=42
    )
    session.commit()
    build_dispatcher(settings).drain(JobContext(factory, settings, clock))
    files = sorted(Path(settings.file_channel_dir).glob("*.eml"))
    return ids, [f.read_text() for f in files]


def _urls(eml: str) -> dict[str, str]:
    parsed = email.message_from_string(eml, policy=email.policy.default)
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return {
        "open": re.search(r'src="http://127\.0\.0\.1:8000(/t/o/[^"]+)"', html).group(1),  # type: ignore[union-attr]
        "click": re.search(r'href="http://127\.0\.0\.1:8000(/t/c/[^"]+)"', html).group(1),  # type: ignore[union-attr]
        "unsubscribe": re.search(
            r"<http://127\.0\.0\.1:8000(/t/u/[^>]+)>", parsed["List-Unsubscribe"]
        ).group(1),  # type: ignore[union-attr]
        "message_id": parsed["Message-ID"],
    }


def _tamper(path: str) -> str:
    """Flip one character in the middle of the signature."""
    at = len(path) - 8
    return path[:at] + ("A" if path[at] != "A" else "B") + path[at + 1 :]


def test_open_click_and_one_click_unsubscribe_land_in_returns_and_the_report(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    auth_headers: KeyMaker,
) -> None:
    ids, emls = _send(session, session_factory, settings, clock)
    urls = _urls(emls[0])
    clock.advance(timedelta(minutes=5))
    assert client.get(urls["open"], headers=BROWSER).headers["content-type"] == "image/gif"
    click = client.get(urls["click"], headers=BROWSER, follow_redirects=False)
    assert click.status_code == 302
    assert (
        click.headers["location"]
        == "https://example.com/offer?c="
        + str(session.scalar(select(Return.contact_id).limit(1)))
        + "&x=1"
    )
    page = client.get(urls["unsubscribe"])
    assert page.status_code == 200
    assert "<form" in page.text  # a GET (link scanners) never unsubscribes
    done = client.post(urls["unsubscribe"], data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    session.expire_all()
    consent = session.scalars(select(Consent).where(Consent.granted.is_(False))).one()
    assert consent.source == "unsubscribe (one-click)"
    kinds = sorted(session.scalars(select(Return.kind).where(Return.outbox_id == ids[0])))
    assert kinds == ["email.clicked", "email.opened", "email.unsubscribed"]

    report = client.get("/api/v1/campaigns/42/report", headers=auth_headers("planner")).json()
    row = report["rows"][0]
    assert (row["step_id"], row["channel"]) == ("s1", "email")
    assert {
        k: row[k]
        for k in ("sent", "failed", "skipped", "opened", "clicked", "unsubscribed", "bounced")
    } == {
        "sent": 1,
        "failed": 0,
        "skipped": 0,
        "opened": 1,
        "clicked": 1,
        "unsubscribed": 1,
        "bounced": 0,
    }


def test_tampered_and_foreign_tokens_are_rejected(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    _, emls = _send(session, session_factory, settings, clock, n=2)
    first, second = _urls(emls[0]), _urls(emls[1])
    open_token = first["open"].removeprefix("/t/o/").removesuffix(".gif")
    click_payload = first["click"].removeprefix("/t/c/").split(".")[0]
    other_mac = second["click"].removeprefix("/t/c/").split(".")[1]
    attempts = [
        client.get(_tamper(first["click"]), follow_redirects=False),
        client.get(f"/t/c/{click_payload}.{other_mac}", follow_redirects=False),
        client.get(
            f"/t/c/{open_token}", follow_redirects=False
        ),  # an open token is not a click token
        client.get(
            "/t/c/aHR0cHM6Ly9ldmlsLmV4YW1wbGU.AAAAAAAAAAAAAAAAAAAAAA", follow_redirects=False
        ),
        client.get(f"/t/o/{_tamper(open_token)}.gif"),
        client.post(_tamper(first["unsubscribe"])),
        client.get("/t/u/not-a-token"),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert "location" not in attempts[3].headers
    assert session.scalar(select(Return.id).limit(1)) is None
    assert not session.scalars(select(Consent).where(Consent.granted.is_(False))).all()


def test_scanners_and_instant_clicks_are_flagged_as_machine(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    auth_headers: KeyMaker,
) -> None:
    _, emls = _send(session, session_factory, settings, clock)
    urls = _urls(emls[0])
    client.get(urls["open"], headers={"User-Agent": "Mozilla/5.0 (via ggpht.com GoogleImageProxy)"})
    clock.advance(timedelta(seconds=2))
    client.get(urls["click"], headers=BROWSER, follow_redirects=False)  # 2 s after delivery
    flags = sorted(session.execute(select(Return.kind, Return.is_machine)).all())
    assert flags == [("email.clicked", True), ("email.opened", True)]
    row = client.get("/api/v1/campaigns/42/report", headers=auth_headers("manager")).json()["rows"][
        0
    ]
    assert (row["opened"], row["clicked"], row["machine_opened"], row["machine_clicked"]) == (
        0,
        0,
        1,
        1,
    )


DSN = """From: MAILER-DAEMON@mx.example.net
To: news@example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {address}
Original-Recipient: rfc822; {address}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

Message-ID: {message_id}
Subject: Hi

--B--
"""


def test_a_hard_bounce_is_matched_by_message_id_and_suppresses_the_address(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    auth_headers: KeyMaker,
) -> None:
    ids, emls = _send(session, session_factory, settings, clock)
    parsed = email.message_from_string(emls[0], policy=email.policy.default)
    address = str(parsed["To"])
    raw = DSN.format(address=address, message_id=parsed["Message-ID"]).replace("\n", "\r\n")
    headers = {**auth_headers("integration"), "Content-Type": "message/rfc822"}
    response = client.post("/api/v1/inbound/bounces", content=raw.encode(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"hard": [address], "soft": [], "matched_outbox_ids": ids}
    assert session.scalars(select(Suppression.address)).all() == [address]
    junk = client.post("/api/v1/inbound/bounces", content=b"hello", headers=headers)
    assert junk.status_code == 422
    report = client.get("/api/v1/campaigns/42/report", headers=auth_headers("planner")).json()
    assert report["rows"][0]["bounced"] == 1


def test_sms_stop_withdraws_consent_and_suppresses_the_number(
    client: TestClient,
    session: Session,
    settings: Settings,
) -> None:
    settings.sms.gateway_token = SecretStr("gw-token")
    person = builders.contact(session, consents=("sms",))
    session.commit()
    no_token = client.post(
        "/api/v1/inbound/sms", json={"type": "inbound", "from": person.phone, "text": "STOP"}
    )
    assert no_token.status_code == 401
    headers = {"Authorization": "Bearer gw-token"}
    stop = client.post(
        "/api/v1/inbound/sms",
        json={"type": "inbound", "from": person.phone, "text": " stop "},
        headers=headers,
    )
    assert stop.status_code == 200, stop.text
    assert stop.json()["kind"] == "sms.unsubscribed"
    session.expire_all()
    assert session.scalars(
        select(Consent.granted).where(Consent.contact_id == person.id)
    ).all() == [False]
    assert session.scalars(select(Suppression.address)).all() == [person.phone]
    unknown = client.post(
        "/api/v1/inbound/sms",
        json={"type": "receipt", "reference": "<1.2.abc@x>", "status": "delivered"},
        headers=headers,
    )
    assert unknown.status_code == 422
