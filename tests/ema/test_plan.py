"""The campaign plan: dependencies, critical path, blocked launch, overdue notices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from core.auth import SYSTEM, create_user
from core.clock import FrozenClock
from core.errors import Conflict, InvalidInput
from core.events import BUS_KEY, EventBus
from ema import service, tasks
from ema.events import CampaignTaskOverdue
from ema.models import TaskStatus
from ema.schemas import TaskCreate, TaskUpdate
from tests.ema import builders


def _campaign(session: Session, clock: FrozenClock) -> int:
    builders.contacts(session, clock, 2, country="ES")
    tpl = builders.templates(session, clock)
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "ES"})
    journey = builders.journey(builders.send("s1", {"email": tpl["email"]}))
    start = clock.now() + timedelta(days=3)
    return builders.campaign(session, clock, segment.id, journey, start_at=start).id


def _task(session: Session, clock: FrozenClock, cid: int, name: str, **kw: object) -> int:
    return tasks.create_task(
        session, cid, TaskCreate(name=name, **kw), actor=SYSTEM, clock=clock
    ).id


def test_critical_path_and_lateness(session: Session, clock: FrozenClock) -> None:
    cid = _campaign(session, clock)
    design = _task(session, clock, cid, "design", duration_days=2)
    legal = _task(session, clock, cid, "legal review", duration_days=2, depends_on=[design])
    pull = _task(session, clock, cid, "list pull", duration_days=1)
    brief = _task(session, clock, cid, "agent briefing", duration_days=1, depends_on=[pull])
    plan = tasks.campaign_plan(session, cid, clock=clock)
    assert plan.critical_path == [design, legal]
    assert plan.finish_at == clock.now() + timedelta(days=4)
    assert plan.late_by_days == 1.0
    slack = {t.task_id: t.slack_days for t in plan.tasks}
    assert slack[brief] == 2.0
    assert plan.open_blocking == 4
    tasks.update_task(
        session, cid, design, TaskUpdate(status=TaskStatus.DONE), actor=SYSTEM, clock=clock
    )
    assert tasks.campaign_plan(session, cid, clock=clock).late_by_days == 0


def test_bad_dependencies_and_owners_are_refused(session: Session, clock: FrozenClock) -> None:
    # bad inputs: unknown dependency, self-dependency, a cycle, an unknown owner
    cid = _campaign(session, clock)
    a = _task(session, clock, cid, "a")
    b = _task(session, clock, cid, "b", depends_on=[a])
    with pytest.raises(InvalidInput) as unknown:
        _task(session, clock, cid, "c", depends_on=[a, 999])
    assert unknown.value.field == "depends_on[1]"
    with pytest.raises(InvalidInput):
        tasks.update_task(session, cid, a, TaskUpdate(depends_on=[a]), actor=SYSTEM, clock=clock)
    with pytest.raises(InvalidInput) as cycle:
        tasks.update_task(session, cid, a, TaskUpdate(depends_on=[b]), actor=SYSTEM, clock=clock)
    assert "cycle" in cycle.value.reason
    with pytest.raises(InvalidInput) as owner:
        _task(session, clock, cid, "d", owner_id=424242)
    assert owner.value.field == "owner_id"


def test_launch_is_refused_while_a_blocking_task_is_open(
    session: Session, clock: FrozenClock
) -> None:
    cid = _campaign(session, clock)
    legal = _task(session, clock, cid, "legal review")
    _task(session, clock, cid, "nice to have", blocking=False)
    with pytest.raises(Conflict) as refused:
        service.launch_campaign(session, cid, actor=SYSTEM, clock=clock)
    assert "legal review" in refused.value.reason
    tasks.update_task(
        session, cid, legal, TaskUpdate(status=TaskStatus.DONE), actor=SYSTEM, clock=clock
    )
    assert service.launch_campaign(session, cid, actor=SYSTEM, clock=clock).status == "scheduled"


def test_overdue_tasks_notify_their_owner_once(session: Session, clock: FrozenClock) -> None:
    seen: list[CampaignTaskOverdue] = []
    bus: EventBus = session.info[BUS_KEY]
    bus.subscribe(CampaignTaskOverdue, lambda _s, e: seen.append(e))
    owner = create_user(session, name="Pat", email="pat@x.io", clock=clock)
    cid = _campaign(session, clock)
    task = _task(
        session, clock, cid, "design", owner_id=owner.id, due_at=clock.now() + timedelta(hours=1)
    )
    assert tasks.notify_overdue_tasks(session, clock.now()) == 0
    clock.advance(timedelta(hours=2))
    assert tasks.notify_overdue_tasks(session, clock.now()) == 1
    assert tasks.notify_overdue_tasks(session, clock.now()) == 0
    assert [(e.task_id, e.owner_id) for e in seen] == [(task, owner.id)]
    tasks.update_task(
        session,
        cid,
        task,
        TaskUpdate(due_at=clock.now() - timedelta(minutes=1)),
        actor=SYSTEM,
        clock=clock,
    )
    assert tasks.notify_overdue_tasks(session, clock.now()) == 1
