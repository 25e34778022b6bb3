"""The campaign plan: internal tasks with owners, due dates and dependencies.

Tasks form a DAG (a dependency must be a task of the same campaign, and no
cycle is accepted). The critical path is the longest chain of durations
through the open tasks, scheduled from the later of now and each task's
predecessors' finish; it tells whether the plan can make the launch date.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import InvalidInput
from ema.models import CampaignTask, TaskStatus


@dataclass(frozen=True)
class ScheduledTask:
    """A task placed on the calendar: earliest start/finish and its slack."""

    task_id: int
    name: str
    status: str
    earliest_start: datetime
    earliest_finish: datetime
    slack_days: float
    critical: bool
    overdue: bool


@dataclass(frozen=True)
class PlanView:
    tasks: list[ScheduledTask]
    critical_path: list[int]
    finish_at: datetime | None
    launch_at: datetime | None
    late_by_days: float


def check_dependencies(
    task_id: int | None, depends_on: Sequence[int], tasks: Iterable[CampaignTask]
) -> None:
    """Refuse unknown dependencies and any that would close a cycle."""
    graph = {t.id: [int(d) for d in t.depends_on] for t in tasks}
    for index, dep in enumerate(depends_on):
        if dep not in graph or dep == task_id:
            raise InvalidInput(f"depends_on[{index}]", f"no other task {dep} in this campaign")
    if task_id is None:
        return
    graph[task_id] = list(depends_on)
    for index, dep in enumerate(depends_on):
        if _reaches(dep, task_id, graph):
            raise InvalidInput(f"depends_on[{index}]", f"task {dep} depends on this task (cycle)")


def _reaches(start: int, goal: int, graph: dict[int, list[int]]) -> bool:
    stack, seen = [start], set()
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, ()))
    return False


def _topological(tasks: list[CampaignTask]) -> list[CampaignTask]:
    by_id = {t.id: t for t in tasks}
    ordered: list[CampaignTask] = []
    seen: set[int] = set()

    def visit(task: CampaignTask) -> None:
        if task.id in seen:
            return
        seen.add(task.id)
        for dep in task.depends_on:
            if int(dep) in by_id:
                visit(by_id[int(dep)])
        ordered.append(task)

    for task in sorted(tasks, key=lambda t: t.id):
        visit(task)
    return ordered


def build_plan(tasks: list[CampaignTask], *, now: datetime, launch_at: datetime | None) -> PlanView:
    """Earliest dates, slack and the critical path of `tasks` (done tasks take no time)."""
    ordered = _topological(tasks)
    finish: dict[int, datetime] = {}
    start: dict[int, datetime] = {}
    for task in ordered:
        begin = max([now, *(finish[int(d)] for d in task.depends_on if int(d) in finish)])
        start[task.id] = begin
        finish[task.id] = begin + _duration(task)
    end = max(finish.values(), default=None)
    latest = _latest_finish(ordered, end) if end else {}
    critical = [t.id for t in ordered if end and latest[t.id] == finish[t.id] and _open(t)]
    views = [
        ScheduledTask(
            task_id=t.id,
            name=t.name,
            status=t.status,
            earliest_start=start[t.id],
            earliest_finish=finish[t.id],
            slack_days=(latest[t.id] - finish[t.id]).total_seconds() / 86400 if end else 0.0,
            critical=t.id in critical,
            overdue=_open(t) and t.due_at is not None and t.due_at < now,
        )
        for t in ordered
    ]
    late = (end - launch_at).total_seconds() / 86400 if end and launch_at and end > launch_at else 0
    return PlanView(views, critical, end, launch_at, float(late))


def _latest_finish(ordered: list[CampaignTask], end: datetime) -> dict[int, datetime]:
    latest: dict[int, datetime] = {}
    for task in reversed(ordered):
        successors = [s for s in ordered if task.id in {int(d) for d in s.depends_on}]
        latest[task.id] = min(
            [end, *(latest[s.id] - _duration(s) for s in successors)],
        )
    return latest


def _duration(task: CampaignTask) -> timedelta:
    return timedelta(days=task.duration_days) if _open(task) else timedelta(0)


def _open(task: CampaignTask) -> bool:
    return task.status == TaskStatus.OPEN.value
