"""Overdue campaign plan tasks reach their owner as an SFA task, once per open notice.

Bad inputs tried: a second overdue tick, a re-published event for the same task
(re-armed without a new notice being needed), a task without an owner.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.auth import SYSTEM, User, create_user
from core.clock import FrozenClock
from ema import tasks
from ema.handlers import overdue_origin
from ema.models import CampaignTask
from ema.schemas import TaskCreate, TaskUpdate
from sfa.models import Activity
from tests.conftest import KeyMaker
from tests.ema import builders


def _plan_task(session: Session, clock: FrozenClock, owner_id: int | None) -> int:
    segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "ES"})
    tpl = builders.templates(session, clock)
    campaign = builders.campaign(
        session, clock, segment.id, builders.journey(builders.send("s1", {"email": tpl["email"]}))
    )
    data = TaskCreate(
        name="Legal review", owner_id=owner_id, due_at=clock.now() + timedelta(days=1)
    )
    return tasks.create_task(session, campaign.id, data, actor=SYSTEM, clock=clock).id


def _notices(session: Session, task_id: int) -> int:
    query = select(func.count()).where(Activity.origin == overdue_origin(task_id))
    return int(session.scalar(query) or 0)


def test_owner_sees_one_notice_per_overdue_task(
    session_factory: sessionmaker[Session],
    client: TestClient,
    auth_headers: KeyMaker,
    clock: FrozenClock,
) -> None:
    headers = auth_headers("rep", user="olga@x.io")
    with session_factory() as session, session.begin():
        owner = session.scalar(select(User.id).where(User.email == "olga@x.io"))
        assert owner is not None
        task_id = _plan_task(session, clock, owner)
        assert tasks.notify_overdue_tasks(session, clock.now()) == 0  # not due yet
        later = clock.now() + timedelta(days=2)
        assert tasks.notify_overdue_tasks(session, later) == 1
        assert tasks.notify_overdue_tasks(session, later) == 0  # second tick: no event
    seen = client.get("/api/v1/activities", params={"open_only": "true"}, headers=headers)
    assert seen.status_code == 200
    mine = [a for a in seen.json() if a["origin"] == overdue_origin(task_id)]
    assert len(mine) == 1
    assert mine[0]["kind"] == "task"
    assert mine[0]["owner_id"] == owner
    assert mine[0]["subject"].startswith("Overdue: Legal review")
    with session_factory() as session, session.begin():
        plan_task = tasks.get_task(session, _campaign_of(session, task_id), task_id)
        plan_task.overdue_notified_at = None  # the event is published again
        assert tasks.notify_overdue_tasks(session, clock.now() + timedelta(days=3)) == 1
        assert _notices(session, task_id) == 1  # still one open notice


def _campaign_of(session: Session, task_id: int) -> int:
    task = session.get(CampaignTask, task_id)
    assert task is not None
    return task.campaign_id


def test_done_notice_and_new_due_date_give_a_new_notice(
    session: Session, clock: FrozenClock
) -> None:
    owner = create_user(session, name="ana", email="ana@x.io", clock=clock).id
    task_id = _plan_task(session, clock, owner)
    tasks.notify_overdue_tasks(session, clock.now() + timedelta(days=2))
    notice = session.scalar(select(Activity).where(Activity.origin == overdue_origin(task_id)))
    assert notice is not None
    notice.done_at = clock.now() + timedelta(days=2)
    tasks.update_task(
        session,
        _campaign_of(session, task_id),
        task_id,
        TaskUpdate(due_at=clock.now() + timedelta(days=4)),
        actor=SYSTEM,
        clock=clock,
    )
    assert tasks.notify_overdue_tasks(session, clock.now() + timedelta(days=5)) == 1
    assert _notices(session, task_id) == 2


def test_task_without_owner_notifies_nobody(session: Session, clock: FrozenClock) -> None:
    task_id = _plan_task(session, clock, None)
    assert tasks.notify_overdue_tasks(session, clock.now() + timedelta(days=2)) == 1
    assert _notices(session, task_id) == 0
