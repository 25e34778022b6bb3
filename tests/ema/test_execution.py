"""The executor: outbox rows in bulk, waits, branches, splits, pause, restart, goals, tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.auth import SYSTEM
from core.clock import FrozenClock
from ema import service
from ema.execution import advance_journeys, enrol_live_newcomers
from ema.jobs import create_sfa_tasks
from ema.models import Enrolment
from ema.outbox import OutboxMessage
from ema.returns import Return
from sfa.models import Activity
from tests.ema import builders

Factory = sessionmaker[Session]


def tick(factory: Factory, clock: FrozenClock, batch_size: int = 3, **kwargs: Any) -> int:
    kwargs.setdefault("task_creator", create_sfa_tasks)
    return advance_journeys(factory, now=clock.now(), batch_size=batch_size, **kwargs)


def outbox(session: Session, campaign_id: int) -> list[tuple[str, int, str | None]]:
    rows = session.execute(
        select(OutboxMessage.step_id, OutboxMessage.contact_id, OutboxMessage.channel)
        .where(OutboxMessage.campaign_id == campaign_id)
        .order_by(OutboxMessage.step_id, OutboxMessage.contact_id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def positions(session: Session, campaign_id: int) -> dict[int, tuple[str | None, str]]:
    session.expire_all()
    rows = session.execute(
        select(Enrolment.contact_id, Enrolment.step_id, Enrolment.state).where(
            Enrolment.campaign_id == campaign_id
        )
    )
    return {c: (s, st) for c, s, st in rows}


def _setup(
    session: Session, clock: FrozenClock, n: int = 5
) -> tuple[list[int], dict[str, int], int]:
    ids = builders.contacts(session, clock, n, country="ES")
    builders.contact(session, clock, email="other@x.io", country="FR")
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "ES"})
    return ids, builders.templates(session, clock), segment.id


def test_send_wait_branch_moves_contacts_and_counts(
    session: Session, session_factory: Factory, clock: FrozenClock
) -> None:
    ids, tpl, segment_id = _setup(session, clock)
    journey = builders.journey(
        builders.send("s1", {"email": tpl["email"]}, "w1"),
        {"id": "w1", "type": "wait", "duration": "P2D", "next": "b1"},
        {"id": "b1", "type": "branch", "on": "opened", "then": "s2", "else": "s3"},
        builders.send("s2", {"sms": tpl["sms"]}),
        {"id": "s3", "type": "call", "script": 5},
    )
    campaign = builders.campaign(session, clock, segment_id, journey)
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    assert tick(session_factory, clock) == 5
    assert [r[0] for r in outbox(session, campaign.id)] == ["s1"] * 5
    assert set(positions(session, campaign.id).values()) == {("w1", "active")}
    assert tick(session_factory, clock) == 0  # nothing due while waiting
    for contact_id in ids[:2]:
        session.add(
            Return(
                contact_id=contact_id,
                campaign_id=campaign.id,
                kind="email.opened",
                occurred_at=clock.now(),
                detail={},
            )
        )
    session.flush()
    clock.advance(timedelta(days=2))
    assert tick(session_factory, clock) == 5
    rows = outbox(session, campaign.id)
    assert [(s, c) for s, c, _ in rows if s == "s2"] == [("s2", c) for c in ids[:2]]
    assert [(c, ch) for s, c, ch in rows if s == "s3"] == [(c, "phone") for c in ids[2:]]
    session.expire_all()
    read = service.read_campaign(session, campaign.id)
    assert read.status == "completed"
    assert read.counts.done == 5
    steps = {s.step_id: (s.enrolled, s.waiting, s.done) for s in read.steps}
    assert steps == {
        "s1": (5, 0, 5),
        "w1": (5, 0, 5),
        "b1": (5, 0, 5),
        "s2": (2, 0, 2),
        "s3": (3, 0, 3),
    }


def test_pause_writes_nothing_and_resume_continues(
    session: Session, session_factory: Factory, clock: FrozenClock
) -> None:
    _, tpl, segment_id = _setup(session, clock)
    journey = builders.journey(builders.send("s1", {"email": tpl["email"]}))
    campaign = builders.campaign(session, clock, segment_id, journey)
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    service.pause_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.flush()
    assert tick(session_factory, clock) == 0
    assert outbox(session, campaign.id) == []
    service.resume_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.flush()
    assert tick(session_factory, clock) == 5
    assert len(outbox(session, campaign.id)) == 5


def test_restart_mid_step_loses_nothing_and_repeats_nothing(
    session: Session, session_factory: Factory, clock: FrozenClock
) -> None:
    ids, tpl, segment_id = _setup(session, clock, n=7)
    journey = builders.journey(
        builders.send("s1", {"email": tpl["email"]}, "t1"),
        {"id": "t1", "type": "task", "subject": "Follow up"},
    )
    campaign = builders.campaign(session, clock, segment_id, journey)
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.flush()
    calls = {"n": 0}

    def crash_on_second_batch(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("process killed")
        create_sfa_tasks(*args)

    with pytest.raises(RuntimeError):
        tick(session_factory, clock, task_creator=crash_on_second_batch)
    assert len(outbox(session, campaign.id)) == 3  # the first batch committed, the second not
    # a row the crashed batch might have left behind does not make a duplicate
    assert tick(session_factory, clock) == 4
    rows = outbox(session, campaign.id)
    assert sorted(c for _, c, _ in rows) == sorted(ids)
    tasks = session.scalar(
        select(func.count())
        .select_from(Activity)
        .where(Activity.origin.like(f"campaign:{campaign.id}:%"))
    )
    assert tasks == 7
    assert tick(session_factory, clock) == 0


def test_split_assigns_variants_and_goal_exits_converted(
    session: Session, session_factory: Factory, clock: FrozenClock
) -> None:
    ids, tpl, segment_id = _setup(session, clock, n=40)
    journey = builders.journey(
        {
            "id": "x",
            "type": "split",
            "variants": [
                {"name": "A", "weight": 1, "next": "a"},
                {"name": "B", "weight": 1, "next": "b"},
            ],
        },
        builders.send("a", {"email": tpl["email"]}, "w"),
        builders.send("b", {"sms": tpl["sms"]}, "w"),
        {"id": "w", "type": "wait", "duration": "P1D", "next": "g"},
        {"id": "g", "type": "goal", "next": "late"},
        builders.send("late", {"email": tpl["email"]}),
    )
    campaign = builders.campaign(session, clock, segment_id, journey)
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    tick(session_factory, clock, batch_size=100)
    variants = dict(
        session.execute(
            select(OutboxMessage.step_id, func.count())
            .where(OutboxMessage.campaign_id == campaign.id)
            .group_by(OutboxMessage.step_id)
        ).all()
    )
    assert variants["a"] + variants["b"] == 40
    assert 8 < variants["a"] < 32
    session.add(
        Return(
            contact_id=ids[0],
            campaign_id=campaign.id,
            kind="contact.converted",
            occurred_at=clock.now(),
            detail={},
        )
    )
    session.flush()
    clock.advance(timedelta(days=1))
    tick(session_factory, clock, batch_size=100)
    states = positions(session, campaign.id)
    assert states[ids[0]] == (None, "converted")
    assert sum(1 for s in states.values() if s == (None, "done")) == 39
    assert len([r for r in outbox(session, campaign.id) if r[0] == "late"]) == 39


def test_live_audience_enrols_newcomers(
    session: Session, session_factory: Factory, clock: FrozenClock
) -> None:
    _, tpl, segment_id = _setup(session, clock, n=2)
    journey = builders.journey(builders.send("s1", {"email": tpl["email"]}))
    campaign = builders.campaign(session, clock, segment_id, journey, audience="live")
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    tick(session_factory, clock)
    builders.contact(session, clock, email="new@x.io", country="ES")
    session.flush()
    tick(session_factory, clock)
    assert len(outbox(session, campaign.id)) == 3
    session.expire_all()
    assert service.read_campaign(session, campaign.id).status == "running"


def test_a_live_tick_inserts_only_newcomers_and_leaves_enrolments_alone(
    session: Session, clock: FrozenClock
) -> None:
    """Bad input tried: members already enrolled (one of them finished) in the segment
    again on the next tick; they are neither re-selected nor rewritten."""
    ids, tpl, segment_id = _setup(session, clock, n=2)
    journey = builders.journey(builders.send("s1", {"email": tpl["email"]}))
    campaign = builders.campaign(session, clock, segment_id, journey, audience="live")
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    session.execute(
        update(Enrolment)
        .where(Enrolment.campaign_id == campaign.id, Enrolment.contact_id == ids[0])
        .values(step_id=None, state="done")
    )
    before = _enrolments(session, campaign.id)
    newcomer = builders.contact(session, clock, email="late@x.io", country="ES")
    session.flush()
    clock.advance(timedelta(minutes=1))
    statements: list[str] = []
    engine = session.connection().engine

    def note(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", note)
    try:
        enrol_live_newcomers(session, clock.now())
    finally:
        event.remove(engine, "before_cursor_execute", note)
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    assert "NOT (EXISTS" in inserts[0]
    after = _enrolments(session, campaign.id)
    assert {c: after[c] for c in before} == before
    assert set(after) == {*before, newcomer}
    assert after[newcomer][:2] == ("s1", "active")


def _enrolments(session: Session, campaign_id: int) -> dict[int, tuple[Any, ...]]:
    session.expire_all()
    rows = session.execute(
        select(
            Enrolment.contact_id,
            Enrolment.step_id,
            Enrolment.state,
            Enrolment.enrolled_at,
            Enrolment.updated_at,
        ).where(Enrolment.campaign_id == campaign_id)
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def test_scheduled_start_and_cancel(
    session: Session, session_factory: Factory, clock: FrozenClock
) -> None:
    _, tpl, segment_id = _setup(session, clock, n=2)
    journey = builders.journey(builders.send("s1", {"email": tpl["email"]}))
    campaign = builders.campaign(
        session, clock, segment_id, journey, start_at=clock.now() + timedelta(hours=1)
    )
    assert (
        service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock).status
        == "scheduled"
    )
    session.flush()
    assert tick(session_factory, clock) == 0
    clock.advance(timedelta(hours=1))
    assert tick(session_factory, clock) == 2
    other = builders.campaign(
        session,
        clock,
        segment_id,
        builders.journey(
            {"id": "w", "type": "wait", "duration": "P1D", "next": "s"},
            builders.send("s", {"email": tpl["email"]}),
        ),
        name="other",
    )
    service.launch_campaign(session, other.id, actor=SYSTEM, clock=clock)
    service.cancel_campaign(session, other.id, actor=SYSTEM, clock=clock)
    session.flush()
    clock.advance(timedelta(days=2))
    tick(session_factory, clock)
    assert outbox(session, other.id) == []
    assert set(positions(session, other.id).values()) == {(("w"), "exited")}
