"""Campaign plan use cases: tasks with owners, due dates and dependencies; overdue notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal, User
from core.clock import Clock
from core.errors import InvalidInput, NotFound
from core.events import publish
from ema.events import CampaignTaskOverdue
from ema.models import CampaignTask, TaskStatus
from ema.plan import build_plan, check_dependencies
from ema.schemas import PlannedTask, PlanRead, TaskCreate, TaskUpdate
from ema.service import get_campaign, open_blocking_tasks


def _tasks(session: Session, campaign_id: int) -> list[CampaignTask]:
    query = select(CampaignTask).where(CampaignTask.campaign_id == campaign_id)
    return list(session.scalars(query.order_by(CampaignTask.id)))


def _check_owner(session: Session, owner_id: int | None) -> None:
    if owner_id is not None and session.get(User, owner_id) is None:
        raise InvalidInput("owner_id", f"no user {owner_id}")


def create_task(
    session: Session, campaign_id: int, data: TaskCreate, *, actor: Principal, clock: Clock
) -> CampaignTask:
    """Add a task to the campaign's plan; dependencies must be tasks of the same plan."""
    del actor
    get_campaign(session, campaign_id)
    _check_owner(session, data.owner_id)
    check_dependencies(None, data.depends_on, _tasks(session, campaign_id))
    now = clock.now()
    task = CampaignTask(
        campaign_id=campaign_id,
        name=data.name.strip(),
        owner_id=data.owner_id,
        due_at=data.due_at,
        duration_days=data.duration_days,
        blocking=data.blocking,
        depends_on=list(dict.fromkeys(data.depends_on)),
        status=TaskStatus.OPEN.value,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    return task


def get_task(session: Session, campaign_id: int, task_id: int) -> CampaignTask:
    task = session.get(CampaignTask, task_id)
    if task is None or task.campaign_id != campaign_id:
        raise NotFound("task", task_id)
    return task


def list_tasks(session: Session, campaign_id: int) -> list[CampaignTask]:
    get_campaign(session, campaign_id)
    return _tasks(session, campaign_id)


def update_task(
    session: Session,
    campaign_id: int,
    task_id: int,
    data: TaskUpdate,
    *,
    actor: Principal,
    clock: Clock,
) -> CampaignTask:
    """Change a task; a new due date re-arms its overdue notice."""
    del actor
    task = get_task(session, campaign_id, task_id)
    changes = data.model_dump(exclude_unset=True)
    if "owner_id" in changes:
        _check_owner(session, changes["owner_id"])
    if changes.get("depends_on") is not None:
        check_dependencies(task.id, changes["depends_on"], _tasks(session, campaign_id))
        changes["depends_on"] = list(dict.fromkeys(changes["depends_on"]))
    if "due_at" in changes:
        task.overdue_notified_at = None
    for key, value in changes.items():
        if value is not None or key in ("owner_id", "due_at"):
            setattr(task, key, str(value) if key == "status" else value)
    task.updated_at = clock.now()
    return task


def campaign_plan(session: Session, campaign_id: int, *, clock: Clock) -> PlanRead:
    """Tasks on the calendar, the critical path and whether it makes the launch date."""
    campaign = get_campaign(session, campaign_id)
    view = build_plan(_tasks(session, campaign_id), now=clock.now(), launch_at=campaign.start_at)
    return PlanRead(
        campaign_id=campaign_id,
        tasks=[PlannedTask(**vars(t)) for t in view.tasks],
        critical_path=view.critical_path,
        finish_at=view.finish_at,
        launch_at=view.launch_at,
        late_by_days=view.late_by_days,
        open_blocking=len(open_blocking_tasks(session, campaign_id)),
    )


def notify_overdue_tasks(session: Session, now: datetime) -> int:
    """Tell each owner, once per due date, about open tasks past due (event per task)."""
    overdue = list(
        session.scalars(
            select(CampaignTask).where(
                CampaignTask.status == TaskStatus.OPEN.value,
                CampaignTask.due_at < now,
                CampaignTask.overdue_notified_at.is_(None),
            )
        )
    )
    for task in overdue:
        assert task.due_at is not None  # noqa: S101 - filtered above
        publish(
            session,
            CampaignTaskOverdue(
                task_id=task.id,
                campaign_id=task.campaign_id,
                owner_id=task.owner_id,
                title=task.name,
                due_at=task.due_at,
            ),
        )
        task.overdue_notified_at = now
    return len(overdue)
