"""Pausing a campaign holds its unsent outbox rows; resuming lets them go out exactly once."""

from __future__ import annotations

import email
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_dispatcher
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings
from ema import service
from ema.execution import advance_journeys
from ema.jobs import create_sfa_tasks
from ema.outbox import OutboxMessage
from tests.channels import builders as channel_builders
from tests.ema import builders

Factory = sessionmaker[Session]


def _states(session: Session, campaign_id: int) -> list[tuple[str, str | None, int]]:
    session.expire_all()
    rows = session.execute(
        select(OutboxMessage.state, OutboxMessage.claimed_by, OutboxMessage.attempts)
        .where(OutboxMessage.campaign_id == campaign_id)
        .order_by(OutboxMessage.id)
    )
    return [(s, c, a) for s, c, a in rows]


def test_pause_holds_pending_rows_and_resume_sends_each_once(
    session: Session, session_factory: Factory, settings: Settings, clock: FrozenClock
) -> None:
    people = [channel_builders.contact(session, country="PT") for _ in range(4)]
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "PT"})
    template = channel_builders.template(session)
    journey = builders.journey(builders.send("s1", {"email": template}))
    campaign = builders.campaign(session, clock, segment.id, journey)
    other = channel_builders.outbox(session, [people[0].id], {"email": template}, campaign_id=999)
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.commit()
    fired = advance_journeys(session_factory, now=clock.now(), task_creator=create_sfa_tasks)
    assert fired == 4
    service.pause_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.commit()

    ctx = JobContext(session_factory, settings, clock)
    dispatcher = build_dispatcher(settings)
    assert dispatcher.drain(ctx) == 1  # only the row of another (unknown) campaign
    assert dispatcher.drain(ctx) == 0
    assert _states(session, campaign.id) == [("pending", None, 0)] * 4
    assert _states(session, 999) == [("sent", dispatcher.node, 0)]
    assert len(list(Path(settings.file_channel_dir).glob("*.eml"))) == 1
    assert other

    service.resume_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.commit()
    assert dispatcher.drain(ctx) == 4
    assert dispatcher.drain(ctx) == 0
    assert [s for s, _, _ in _states(session, campaign.id)] == ["sent"] * 4
    files = list(Path(settings.file_channel_dir).glob("*.eml"))
    assert len(files) == 5
    parsed = [email.message_from_bytes(f.read_bytes()) for f in files]
    assert len({m["Message-ID"] for m in parsed}) == 5
    assert sorted(m["To"] for m in parsed) == sorted(
        [people[0].email or "", *(p.email or "" for p in people)]
    )


def test_an_expired_claim_of_a_paused_campaign_waits_for_the_resume(
    session: Session, session_factory: Factory, settings: Settings, clock: FrozenClock
) -> None:
    person = channel_builders.contact(session, country="PT")
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "PT"})
    template = channel_builders.template(session)
    campaign = builders.campaign(
        session, clock, segment.id, builders.journey(builders.send("s1", {"email": template}))
    )
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.commit()
    advance_journeys(session_factory, now=clock.now(), task_creator=create_sfa_tasks)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.campaign_id == campaign.id)
        .values(state="claimed", claimed_by="dead", claimed_until=clock.now())
    )
    service.pause_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.commit()
    clock.advance(settings_ttl(settings))
    ctx = JobContext(session_factory, settings, clock)
    dispatcher = build_dispatcher(settings)
    assert dispatcher.drain(ctx) == 0
    assert _states(session, campaign.id) == [("claimed", "dead", 0)]
    service.resume_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.commit()
    assert dispatcher.drain(ctx) == 1
    assert _states(session, campaign.id)[0][0] == "sent"
    assert person.id


def settings_ttl(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.worker.claim_ttl_seconds + 1)
