"""A configured product ordered is a campaign conversion, end to end in-process.

Campaign email -> a human click -> a configuration completed and ordered through
`configurator.service` -> a conversion return (kind `contact.converted`, the kind journeys
test, with `detail.source = configuration.ordered`) credited to the campaign, counted by
the campaign report, seen by a journey's goal and by `branch on converted`.
Bad inputs tried: an order with no campaign touch (recorded, no campaign), a touch 31
days old, a scanner's click (machine), an order known only by email, an order by
nobody known, the same order event handled twice.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api import wiring
from api.wiring import build_dispatcher
from configurator import service as cfg_service
from configurator.demo import EBIKE
from configurator.events import ConfigurationOrdered
from configurator.schemas import CompleteRequest, ConfigurationCreate, OrderCreate
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings
from ema import service as ema_service
from ema.execution import advance_journeys
from ema.jobs import create_sfa_tasks
from ema.models import Enrolment
from ema.outbox import OutboxMessage
from ema.returns import Return
from sfa.models import Contact
from tests.channels import builders as channel_builders
from tests.conftest import KeyMaker
from tests.ema import builders

BROWSER = {"User-Agent": "Mozilla/5.0 (Macintosh) Firefox/130.0"}
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel)"
Factory = sessionmaker[Session]


def _setup(
    session: Session,
    factory: Factory,
    settings: Settings,
    clock: FrozenClock,
    *after: dict[str, Any],
) -> tuple[int, list[Contact]]:
    """Two PT contacts in `s1 (email) -> w1 (1 day) -> after...` (s2, s3: emails); s1 sent."""
    cfg_service.import_product(
        session, EBIKE.read_text("utf-8"), "native", actor=SYSTEM, clock=clock
    )
    people = [channel_builders.contact(session, country="PT") for _ in range(2)]
    template = channel_builders.template(session)
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "PT"})
    named = {a.get(k) for a in after for k in ("next", "then", "else")}
    journey = builders.journey(
        builders.send("s1", {"email": template}, "w1"),
        {"id": "w1", "type": "wait", "duration": "P1D", "next": after[0]["id"]},
        *after,
        *(builders.send(s, {"email": template}) for s in ("s2", "s3") if s in named),
    )
    campaign = builders.campaign(session, clock, segment.id, journey, name="E-bike spring")
    ema_service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.commit()
    advance_journeys(factory, now=clock.now(), task_creator=create_sfa_tasks)
    build_dispatcher(settings).drain(JobContext(factory, settings, clock))
    return campaign.id, people


def _click(client: TestClient, settings: Settings, person: Contact, agent: str = "") -> None:
    for path in Path(settings.file_channel_dir).glob("*.eml"):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if parsed["To"] == person.email:
            html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
            found = re.search(r'href="http://127\.0\.0\.1:8000(/t/c/[^"]+)"', html)
            assert found is not None
            headers = {"User-Agent": agent} if agent else BROWSER
            answer = client.get(found.group(1), headers=headers, follow_redirects=False)
            assert answer.status_code == 302
            return
    raise AssertionError(f"no email to {person.email}")


def _order(session: Session, clock: FrozenClock, **who: Any) -> int:
    state = cfg_service.start_configuration(
        session, ConfigurationCreate(product="ebike", **who), actor=SYSTEM, clock=clock
    )
    cfg_service.complete_configuration(
        session, state.id, CompleteRequest(), actor=SYSTEM, clock=clock
    )
    order, created = cfg_service.place_order(
        session, state.id, OrderCreate(), actor=SYSTEM, clock=clock
    )
    assert created
    session.commit()
    return order.id


def _conversions(session: Session) -> list[Return]:
    session.expire_all()
    query = select(Return).where(Return.kind == "contact.converted").order_by(Return.id)
    return list(session.scalars(query))


def _states(session: Session, campaign_id: int) -> dict[int, str]:
    session.expire_all()
    query = select(Enrolment.contact_id, Enrolment.state).where(
        Enrolment.campaign_id == campaign_id
    )
    return dict(session.execute(query).all())


def _sends_at(session: Session, step_id: str) -> list[int]:
    query = select(OutboxMessage.contact_id).where(OutboxMessage.step_id == step_id)
    return list(session.scalars(query.order_by(OutboxMessage.contact_id)))


def test_an_order_after_a_click_converts_for_the_campaign_and_its_goal(
    client: TestClient,
    session: Session,
    session_factory: Factory,
    settings: Settings,
    clock: FrozenClock,
    auth_headers: KeyMaker,
) -> None:
    goal = {"id": "g1", "type": "goal", "next": "s3"}
    campaign_id, (buyer, other) = _setup(session, session_factory, settings, clock, goal)
    clock.advance(timedelta(hours=2))
    _click(client, settings, buyer)
    clock.advance(timedelta(hours=3))
    order_id = _order(session, clock, contact_id=buyer.id)

    [conversion] = _conversions(session)
    assert (conversion.contact_id, conversion.campaign_id) == (buyer.id, campaign_id)
    assert (conversion.step_id, conversion.channel) == ("s1", "email")
    assert conversion.occurred_at == clock.now()
    assert conversion.detail["source"] == "configuration.ordered"
    assert conversion.detail["order_id"] == order_id
    assert conversion.detail["product"] == "ebike"
    report = client.get(
        f"/api/v1/campaigns/{campaign_id}/report", headers=auth_headers("planner")
    ).json()
    [row] = [r for r in report["rows"] if r["step_id"] == "s1"]
    assert (row["sent"], row["clicked"], row["converted"]) == (2, 1, 1)

    clock.advance(timedelta(days=1))
    advance_journeys(session_factory, now=clock.now(), task_creator=create_sfa_tasks)
    assert _states(session, campaign_id) == {buyer.id: "converted", other.id: "done"}
    assert _sends_at(session, "s3") == [other.id]


def test_branch_on_converted_sees_an_order_known_only_by_email(
    client: TestClient,
    session: Session,
    session_factory: Factory,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    branch = {"id": "b1", "type": "branch", "on": "converted", "then": "s2", "else": "s3"}
    campaign_id, (buyer, other) = _setup(session, session_factory, settings, clock, branch)
    clock.advance(timedelta(hours=1))
    _click(client, settings, buyer)
    _order(session, clock, contact_email=(buyer.email or "").upper())
    [conversion] = _conversions(session)
    assert (conversion.contact_id, conversion.campaign_id) == (buyer.id, campaign_id)
    clock.advance(timedelta(days=1))
    advance_journeys(session_factory, now=clock.now(), task_creator=create_sfa_tasks)
    assert _sends_at(session, "s2") == [buyer.id]
    assert _sends_at(session, "s3") == [other.id]


def test_orders_without_a_recent_human_touch_convert_for_no_campaign(
    client: TestClient,
    session: Session,
    session_factory: Factory,
    settings: Settings,
    clock: FrozenClock,
) -> None:
    goal = {"id": "g1", "type": "goal", "next": "s3"}
    _, (stale, scanned) = _setup(session, session_factory, settings, clock, goal)
    clock.advance(timedelta(minutes=5))
    _click(client, settings, stale)
    _click(client, settings, scanned, agent=SCANNER)
    clock.advance(timedelta(days=31))
    _order(session, clock, contact_id=stale.id)
    _order(session, clock, contact_id=scanned.id)
    _order(session, clock, contact_email="nobody@example.org")
    rows = _conversions(session)
    assert [(r.contact_id, r.campaign_id, r.step_id) for r in rows] == [
        (stale.id, None, None),
        (scanned.id, None, None),
    ]


def test_the_same_order_event_twice_is_recorded_once(
    session: Session, clock: FrozenClock, session_factory: Factory, settings: Settings
) -> None:
    goal = {"id": "g1", "type": "goal", "next": "s3"}
    _, (buyer, _other) = _setup(session, session_factory, settings, clock, goal)
    order_id = _order(session, clock, contact_id=buyer.id)
    [first] = _conversions(session)
    event = ConfigurationOrdered(
        order_id=order_id,
        configuration_id=first.detail["configuration_id"],
        product_id=1,
        product_slug="ebike",
        version=1,
        price=first.detail["price"],
        contact_id=buyer.id,
        contact_email=None,
    )
    wiring.on_configuration_ordered(session, event)
    assert [r.id for r in _conversions(session)] == [first.id]
