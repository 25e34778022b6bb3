"""The configured product in templates: `{{ product.name }}`, `{{ product.price }}`, fallback.

Loaded for a whole dispatch batch in one query; the preview endpoint shows it too.
Bad inputs tried: a contact who never configured, a contact whose only newer
configuration is still open (the complete one is used), a preview for a contact who
configured nothing.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_dispatcher
from configurator import service as cfg_service
from configurator.demo import EBIKE
from configurator.schemas import CompleteRequest, ConfigurationCreate
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings
from tests.channels import builders
from tests.conftest import KeyMaker

HTML = (
    "<html><body>{% if product %}<p>Your {{ product.name }} for {{ product.price }} EUR"
    "</p>{% else %}<p>Configure your bike</p>{% endif %}</body></html>"
)
SUBJECT = "{{ product.name if product else 'A bike for you' }}"


def _configured(session: Session, clock: FrozenClock, contact_id: int) -> float:
    """A complete e-bike configuration for the contact (then a newer open one); its price."""
    state = cfg_service.start_configuration(
        session,
        ConfigurationCreate(product="ebike", contact_id=contact_id),
        actor=SYSTEM,
        clock=clock,
    )
    done = cfg_service.complete_configuration(
        session, state.id, CompleteRequest(), actor=SYSTEM, clock=clock
    )
    assert done.price is not None
    clock.advance(timedelta(hours=1))
    cfg_service.start_configuration(
        session,
        ConfigurationCreate(product="ebike", contact_id=contact_id),
        actor=SYSTEM,
        clock=clock,
    )
    return done.price.min


def _emails(settings: Settings) -> dict[str, EmailMessage]:
    found = {}
    for path in Path(settings.file_channel_dir).glob("*.eml"):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found[str(parsed["To"])] = parsed
    return found


def _html(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


@contextmanager
def _configuration_queries(connection: Connection) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        statement = str(args[2])
        if "cfg_configurations" in statement:
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", note)
    yield seen
    event.remove(connection, "before_cursor_execute", note)


def test_templates_see_the_configured_product_or_fall_back(
    client: TestClient,
    auth_headers: KeyMaker,
    session: Session,
    session_factory: sessionmaker[Session],
    connection: Connection,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    cfg_service.import_product(
        session, EBIKE.read_text("utf-8"), "native", actor=SYSTEM, clock=clock
    )
    rider, newcomer, other_rider = (builders.contact(session) for _ in range(3))
    price = _configured(session, clock, rider.id)
    _configured(session, clock, other_rider.id)
    template = builders.template(session, subject=SUBJECT, mjml=None, html=HTML, text=None)
    people = [rider.id, newcomer.id, other_rider.id]
    builders.outbox(session, people, {"email": template}, due_at=clock.now())
    session.commit()

    with _configuration_queries(connection) as queries:
        assert build_dispatcher(settings).drain(JobContext(session_factory, settings, clock)) == 3
    assert len(queries) == 1  # one query for the whole batch

    sent = _emails(settings)
    assert sent[rider.email or ""]["Subject"] == "Campana e-bike"
    assert f"Your Campana e-bike for {price} EUR" in _html(sent[rider.email or ""])
    assert sent[newcomer.email or ""]["Subject"] == "A bike for you"
    assert "Configure your bike" in _html(sent[newcomer.email or ""])

    planner = auth_headers("planner")
    url = f"/api/v1/templates/{template}/preview"
    shown = client.post(url, json={"contact_id": rider.id}, headers=planner)
    assert shown.status_code == 200, shown.text
    assert shown.json()["subject"] == "Campana e-bike"
    assert f"Your Campana e-bike for {price} EUR" in shown.json()["html"]
    plain = client.post(url, json={"contact_id": newcomer.id}, headers=planner).json()
    assert plain["subject"] == "A bike for you"
    assert "Configure your bike" in plain["html"]
