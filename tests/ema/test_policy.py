"""A campaign's delivery policy through the API: fallback order, quiet hours, frequency cap.

Bad inputs tried: an unknown channel in the fallback and in quiet hours, a channel listed
twice, a time that is not HH:MM (25:00, 9am), a window of one time, an empty window,
a cap of 0 and -1, a window of 0 days; each is a 422 naming the field.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_dispatcher
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings
from ema.outbox import OutboxMessage
from tests.channels import builders as channel_builders
from tests.conftest import KeyMaker
from tests.ema import builders

_SERIAL = itertools.count()


def _campaign(
    client: TestClient, headers: dict[str, str], session: Session, clock: FrozenClock, **policy: Any
) -> Any:
    rules = {"field": "country", "op": "eq", "value": "PT"}
    segment = builders.segment(session, clock, rules, name=f"seg{next(_SERIAL)}")
    template = channel_builders.template(session)
    session.commit()
    body = {
        "name": "policy",
        "segment_id": segment.id,
        "journey": builders.journey(builders.send("s1", {"email": template})),
        **policy,
    }
    return client.post("/api/v1/campaigns", json=body, headers=headers)


def test_policy_fields_are_stored_read_edited_and_reset(
    client: TestClient, auth_headers: KeyMaker, session: Session, clock: FrozenClock
) -> None:
    planner = auth_headers("planner")
    policy = {
        "fallback": ["web", "email"],
        "quiet_hours": {"email": ["22:00", "07:30"], "sms": None},
        "frequency_cap": 2,
        "frequency_window_days": 3,
    }
    made = _campaign(client, planner, session, clock, **policy)
    assert made.status_code == 201, made.text
    assert {k: made.json()[k] for k in policy} == policy
    cid = made.json()["id"]
    patched = client.patch(
        f"/api/v1/campaigns/{cid}", json={"frequency_cap": 4, "fallback": None}, headers=planner
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["frequency_cap"] == 4
    assert patched.json()["fallback"] is None
    assert patched.json()["quiet_hours"] == policy["quiet_hours"]
    bare = _campaign(client, planner, session, clock)
    assert bare.status_code == 201, bare.text
    assert bare.json()["fallback"] is None
    assert bare.json()["frequency_cap"] is None


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"fallback": ["email", "fax"]}, "fallback[1]"),
        ({"fallback": ["email", "email"]}, "fallback[1]"),
        ({"quiet_hours": {"fax": ["21:00", "08:00"]}}, "quiet_hours.fax"),
        ({"quiet_hours": {"sms": ["25:00", "08:00"]}}, "quiet_hours.sms[0]"),
        ({"quiet_hours": {"sms": ["21:00", "9am"]}}, "quiet_hours.sms[1]"),
        ({"quiet_hours": {"sms": ["21:00"]}}, "quiet_hours.sms"),
        ({"quiet_hours": {"sms": ["21:00", "21:00"]}}, "quiet_hours.sms"),
        ({"frequency_cap": 0}, "frequency_cap"),
        ({"frequency_cap": -1}, "frequency_cap"),
        ({"frequency_window_days": 0}, "frequency_window_days"),
    ],
)
def test_a_bad_policy_is_a_422_naming_the_field(
    client: TestClient,
    auth_headers: KeyMaker,
    session: Session,
    clock: FrozenClock,
    policy: dict[str, Any],
    field: str,
) -> None:
    planner = auth_headers("planner")
    answer = _campaign(client, planner, session, clock, **policy)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    made = _campaign(client, planner, session, clock)
    patched = client.patch(f"/api/v1/campaigns/{made.json()['id']}", json=policy, headers=planner)
    assert patched.status_code == 422
    assert [e["field"] for e in patched.json()["errors"]] == [field]


def _drain(factory: sessionmaker[Session], settings: Settings, clock: FrozenClock) -> None:
    build_dispatcher(settings).drain(JobContext(factory, settings, clock))


def _row(session: Session, outbox_id: int) -> OutboxMessage:
    session.expire_all()
    found = session.get(OutboxMessage, outbox_id)
    assert found is not None
    return found


def test_dispatch_applies_the_campaigns_fallback_quiet_hours_and_cap(
    client: TestClient,
    auth_headers: KeyMaker,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    planner = auth_headers("planner")
    fallback = _campaign(client, planner, session, clock, fallback=["web", "email"]).json()["id"]
    quiet = _campaign(
        client, planner, session, clock, quiet_hours={"email": ["08:00", "12:00"]}
    ).json()["id"]
    capped = _campaign(
        client, planner, session, clock, frequency_cap=1, frequency_window_days=2
    ).json()["id"]
    person = channel_builders.contact(session, consents=("email", "web"), time_zone="Europe/Lisbon")
    content = {
        "email": channel_builders.template(session),
        "web": channel_builders.template(session, "web"),
    }
    # The capped campaign writes to someone else: a send accepted earlier in the same
    # batch (to_web) would count against the cap of 1.
    other = channel_builders.contact(session, consents=("email", "web"), time_zone="Europe/Lisbon")
    old = channel_builders.outbox(session, [person.id, other.id], content, campaign_id=77)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(old))
        .values(state="sent", sent_at=clock.now() - timedelta(days=3))
    )
    [to_web] = channel_builders.outbox(session, [person.id], content, campaign_id=fallback)
    [waits] = channel_builders.outbox(session, [person.id], content, campaign_id=quiet)
    [first] = channel_builders.outbox(session, [other.id], content, campaign_id=capped)
    session.commit()

    _drain(session_factory, settings, clock)  # 09:00 in Lisbon (UTC in March)

    assert _row(session, to_web).channel == "web"
    held = _row(session, waits)
    assert (held.state, held.reason) == ("pending", "email: quiet hours in Europe/Lisbon")
    assert held.due_at == clock.now().replace(hour=12)
    assert _row(session, first).state == "sent"  # the send 3 days ago is outside 2 days
    [second] = channel_builders.outbox(
        session, [other.id], content, campaign_id=capped, step_id="s2"
    )
    session.commit()
    _drain(session_factory, settings, clock)
    skipped = _row(session, second)
    assert skipped.state == "skipped"
    assert skipped.reason is not None
    assert skipped.reason.startswith("frequency cap")
    assert session.scalar(select(OutboxMessage.state).where(OutboxMessage.id == waits)) == "pending"


def test_the_cap_counts_sends_accepted_earlier_in_the_same_batch(
    client: TestClient,
    auth_headers: KeyMaker,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
) -> None:
    """Bad input tried: a contact one send below the cap with three rows from three
    campaigns in one batch (before, all three went out)."""
    planner = auth_headers("planner")
    campaigns = [
        _campaign(client, planner, session, clock, frequency_cap=2).json()["id"] for _ in range(3)
    ]
    person = channel_builders.contact(session)
    content = {"email": channel_builders.template(session)}
    old = channel_builders.outbox(session, [person.id], content, campaign_id=77)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(old))
        .values(state="sent", sent_at=clock.now() - timedelta(days=1))
    )
    rows = [
        channel_builders.outbox(session, [person.id], content, campaign_id=cid)[0]
        for cid in campaigns
    ]
    session.commit()

    _drain(session_factory, settings, clock)

    states = [(_row(session, r).state, _row(session, r).reason) for r in rows]
    assert [s for s, _ in states].count("sent") == 1
    held = [(s, reason) for s, reason in states if s != "sent"]
    assert len(held) == 2
    for state, reason in held:
        assert state in {"skipped", "pending"}
        assert reason is not None
        assert reason.startswith("frequency cap: 2 sent")
