"""Events EMA publishes (api/wiring.py may subscribe notifiers to them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from core.events import Event


@dataclass(frozen=True)
class CampaignTaskOverdue(Event):
    """An open task of a campaign plan passed its due date (published once per due date)."""

    name: ClassVar[str] = "campaign_task.overdue"
    task_id: int
    campaign_id: int
    owner_id: int | None
    title: str
    due_at: datetime
