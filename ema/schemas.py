"""Pydantic shapes of the EMA planning API: segments, campaigns, plans, simulations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ema.models import Audience, SegmentKind, TaskStatus


class SegmentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: SegmentKind = SegmentKind.RULES
    rules: dict[str, Any] | None = Field(
        default=None, description="Rule tree (kind=rules); see docs/api/ema.md"
    )
    contact_ids: list[int] = Field(default_factory=list, description="Members (kind=static)")


class SegmentUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    rules: dict[str, Any] | None = None


class SegmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    rules: dict[str, Any] | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class SegmentCount(BaseModel):
    segment_id: int
    count: int


class SegmentContact(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    country: str | None
    language: str | None


class PreviewNode(BaseModel):
    path: str
    rule: dict[str, Any]
    count: int = Field(description="Live contacts this node's own condition matches")


class SegmentPreview(BaseModel):
    live_contacts: int
    matched: int
    nodes: list[PreviewNode]


class ListMembers(BaseModel):
    contact_ids: list[int] = Field(min_length=1, max_length=10_000)


class ListChange(BaseModel):
    segment_id: int
    changed: int


FALLBACK_DOC = (
    "Channels tried, in order, after the contact's preferred one "
    "(null: email, sms, post, web, phone, webhook)"
)
QUIET_DOC = (
    'Local-time windows per channel in the contact\'s time zone, e.g. {"sms": ["21:00", "08:00"]}; '
    "a message due inside waits for the end; null for a channel lifts its default window"
)
CAP_DOC = "At most this many messages per contact across all campaigns in the window (null: 5)"
WINDOW_DOC = "The frequency cap's window in days (null: 7)"


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    objective: str | None = Field(default=None, max_length=4000)
    segment_id: int
    budget: Decimal | None = Field(default=None, ge=0)
    channel_costs: dict[str, Decimal] = Field(
        default_factory=dict, description="Cost per contact reached, per channel"
    )
    audience: Audience = Audience.SNAPSHOT
    start_at: datetime | None = None
    journey: dict[str, Any]
    fallback: list[str] | None = Field(default=None, description=FALLBACK_DOC)
    quiet_hours: dict[str, list[str] | None] | None = Field(default=None, description=QUIET_DOC)
    frequency_cap: int | None = Field(default=None, description=CAP_DOC)
    frequency_window_days: int | None = Field(default=None, description=WINDOW_DOC)


class CampaignUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    objective: str | None = Field(default=None, max_length=4000)
    segment_id: int | None = None
    budget: Decimal | None = Field(default=None, ge=0)
    channel_costs: dict[str, Decimal] | None = None
    audience: Audience | None = None
    start_at: datetime | None = None
    journey: dict[str, Any] | None = None
    fallback: list[str] | None = Field(default=None, description=FALLBACK_DOC)
    quiet_hours: dict[str, list[str] | None] | None = Field(default=None, description=QUIET_DOC)
    frequency_cap: int | None = Field(default=None, description=CAP_DOC)
    frequency_window_days: int | None = Field(default=None, description=WINDOW_DOC)


class StepCounts(BaseModel):
    step_id: str
    type: str
    enrolled: int = Field(description="Contacts that reached the step (went through or are at it)")
    waiting: int = Field(description="Contacts at the step now, waiting for it to come due")
    done: int = Field(description="Contacts the step has been carried out for")


class EnrolmentCounts(BaseModel):
    enrolled: int = 0
    active: int = 0
    done: int = 0
    converted: int = 0
    exited: int = 0


class CampaignRead(BaseModel):
    id: int
    name: str
    objective: str | None
    segment_id: int
    status: str
    audience: str
    budget: Decimal | None
    channel_costs: dict[str, Any]
    start_at: datetime | None
    launched_at: datetime | None
    completed_at: datetime | None
    journey: dict[str, Any]
    fallback: list[str] | None
    quiet_hours: dict[str, list[str] | None] | None
    frequency_cap: int | None
    frequency_window_days: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    counts: EnrolmentCounts
    steps: list[StepCounts]


class CampaignSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    status: str
    segment_id: int
    start_at: datetime | None
    launched_at: datetime | None


class TaskCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    owner_id: int | None = None
    due_at: datetime | None = None
    duration_days: int = Field(default=1, ge=0, le=365)
    blocking: bool = True
    depends_on: list[int] = Field(default_factory=list)


class TaskUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    owner_id: int | None = None
    due_at: datetime | None = None
    duration_days: int | None = Field(default=None, ge=0, le=365)
    blocking: bool | None = None
    status: TaskStatus | None = None
    depends_on: list[int] | None = None


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    name: str
    owner_id: int | None
    due_at: datetime | None
    duration_days: int
    status: str
    blocking: bool
    depends_on: list[int]
    created_at: datetime
    updated_at: datetime


class PlannedTask(BaseModel):
    task_id: int
    name: str
    status: str
    earliest_start: datetime
    earliest_finish: datetime
    slack_days: float
    critical: bool
    overdue: bool


class PlanRead(BaseModel):
    campaign_id: int
    tasks: list[PlannedTask]
    critical_path: list[int]
    finish_at: datetime | None
    launch_at: datetime | None
    late_by_days: float
    open_blocking: int


class SimulateRequest(BaseModel):
    days: int = Field(default=30, ge=1, le=366)
    rates: dict[str, float] = Field(
        default_factory=dict,
        description="Return rates per kind (e.g. email.opened: 0.25) overriding history/defaults",
    )
    call_minutes: float = Field(default=6.0, gt=0, le=240)


class SimulatedStep(BaseModel):
    day: int
    date: str
    step_id: str
    type: str
    channel: str | None
    contacts: float


class CallCenterDay(BaseModel):
    date: str
    calls: float
    operator_hours: float


class SimulationRead(BaseModel):
    campaign_id: int
    audience: int
    days: list[SimulatedStep]
    per_step: dict[str, float]
    per_channel: dict[str, float]
    cost_per_channel: dict[str, float]
    total_cost: float
    budget: float | None
    over_budget: bool
    call_center: list[CallCenterDay]
    rates: dict[str, float]
