"""A contact's whole history across SFA, EMA and the configurator, through the API.

Bad inputs tried: page sizes that cut between modules and between entries of
the same instant (limits 1, 2 and 3 must give the same order as one big page),
a malformed cursor, a cursor naming an unknown module, entries of a contact
merged into this one.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_dispatcher
from configurator import service as cfg_service
from configurator.demo import EBIKE
from configurator.lifecycle import mark_abandoned
from configurator.schemas import ConfigurationCreate
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.pagination import encode_cursor
from core.scheduler import JobContext
from core.settings import Settings
from ema import service as ema_service
from ema.execution import advance_journeys
from ema.returns import Return
from tests.conftest import KeyMaker
from tests.ema import builders

BROWSER = {"User-Agent": "Mozilla/5.0 (Macintosh) Firefox/130.0"}


def _contact(client: TestClient, headers: dict[str, str], email_address: str) -> int:
    body = {
        "first_name": "Eva",
        "last_name": "Lopes",
        "email": email_address,
        "country": "ES",
        "time_zone": "UTC",
        "consents": [{"channel": "email", "granted": True, "source": "web form"}],
    }
    made = client.post("/api/v1/contacts", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _send_campaign(
    session: Session, factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> str:
    """Launch an email campaign to Spain, dispatch it; returns the pixel path of the email."""
    tpl = builders.templates(session, clock)
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "ES"})
    journey = builders.journey(builders.send("s1", {"email": tpl["email"]}))
    campaign = builders.campaign(session, clock, segment.id, journey, name="Spring rides")
    ema_service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.commit()
    advance_journeys(factory, now=clock.now())
    build_dispatcher(settings).drain(JobContext(factory, settings, clock))
    eml = next(Path(settings.file_channel_dir).glob("*.eml")).read_text()
    parsed = email.message_from_string(eml, policy=email.policy.default)
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    found = re.search(r'src="http://127\.0\.0\.1:8000(/t/o/[^"]+)"', html)
    assert found is not None
    return found.group(1)


def _configure(session: Session, clock: FrozenClock, contact_id: int) -> None:
    data = ConfigurationCreate(product="ebike", contact_id=contact_id)
    cfg_service.start_configuration(session, data, actor=SYSTEM, clock=clock)
    session.commit()


def _pages(client: TestClient, url: str, headers: dict[str, str], limit: int) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=params, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_timeline_merges_every_module_in_time_order_across_pages(
    client: TestClient,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    auth_headers: KeyMaker,
) -> None:
    headers = auth_headers("admin")
    person = _contact(client, headers, "eva@x.io")
    cfg_service.import_product(
        session, EBIKE.read_text("utf-8"), "native", actor=SYSTEM, clock=clock
    )
    clock.advance(timedelta(hours=1))
    pixel = _send_campaign(session, session_factory, settings, clock)
    clock.advance(timedelta(hours=1))
    assert client.get(pixel, headers=BROWSER).status_code == 200
    clock.advance(timedelta(hours=1))
    _configure(session, clock, person)  # same instant as the note below
    note = {"kind": "note", "subject": "Asked about e-bikes", "contact_id": person}
    assert client.post("/api/v1/activities", json=note, headers=headers).status_code == 201
    clock.advance(timedelta(days=2))
    assert mark_abandoned(session, idle=timedelta(days=1), clock=clock) == 1
    session.commit()

    url = f"/api/v1/contacts/{person}/timeline"
    whole = client.get(url, params={"limit": 100}, headers=headers).json()
    assert whole["next_cursor"] is None
    kinds = [(e["module"], e["kind"]) for e in whole["items"]]
    assert kinds == [
        ("configurator", "configuration.abandoned"),
        ("sfa", "activity.note"),
        ("configurator", "configuration.started"),
        ("ema", "email.opened"),
        ("ema", "message.sent"),
        ("sfa", "contact.created"),  # same instant as its consent, written after it
        ("sfa", "consent.changed"),
    ]
    times = [e["occurred_at"] for e in whole["items"]]
    assert times == sorted(times, reverse=True)
    sent, opened = whole["items"][4], whole["items"][3]
    assert sent["detail"]["channel"] == "email"
    assert sent["detail"]["campaign"] == "Spring rides"
    assert sent["detail"]["step_id"] == "s1"
    assert sent["ref"] == f"outbox:{sent['id']}"
    assert opened["detail"]["is_machine"] is False
    assert whole["items"][0]["detail"]["product"] == "ebike"
    assert whole["items"][0]["summary"] == "Abandoned a Campana e-bike configuration"
    for limit in (1, 2, 3):
        assert _pages(client, url, headers, limit) == whole["items"]


def test_machine_opens_are_flagged_and_merged_contacts_history_follows(
    client: TestClient, session: Session, clock: FrozenClock, auth_headers: KeyMaker
) -> None:
    headers = auth_headers("admin")
    keep = _contact(client, headers, "keep@x.io")
    dup = _contact(client, headers, "dup@x.io")
    cfg_service.import_product(
        session, EBIKE.read_text("utf-8"), "native", actor=SYSTEM, clock=clock
    )
    clock.advance(timedelta(minutes=5))
    _configure(session, clock, dup)
    session.add(
        Return(
            contact_id=dup,
            campaign_id=None,
            kind="email.opened",
            occurred_at=clock.now(),
            is_machine=True,
            detail={},
        )
    )
    session.commit()
    clock.advance(timedelta(minutes=5))
    merged = client.post(
        f"/api/v1/contacts/{keep}/merge", json={"duplicate_id": dup}, headers=headers
    )
    assert merged.status_code == 200, merged.text
    items = _pages(client, f"/api/v1/contacts/{keep}/timeline", headers, 2)
    by_kind = {e["kind"]: e for e in items}
    assert by_kind["configuration.started"]["original_contact_id"] == dup
    assert by_kind["configuration.started"]["contact_id"] == keep
    assert by_kind["email.opened"]["detail"]["is_machine"] is True
    assert "[machine]" in by_kind["email.opened"]["summary"]
    assert items[0]["kind"] == "contact.merged"


def test_bad_cursors_are_422(client: TestClient, auth_headers: KeyMaker) -> None:
    headers = auth_headers("admin")
    person = _contact(client, headers, "c@x.io")
    url = f"/api/v1/contacts/{person}/timeline"
    for cursor in ("not-a-cursor!", encode_cursor(["2026-03-02T09:00:00+00:00", "crm", 1])):
        answer = client.get(url, params={"cursor": cursor}, headers=headers)
        assert answer.status_code == 422, cursor
        assert answer.json()["errors"][0]["field"] == "cursor"
