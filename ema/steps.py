"""Journey steps carried out for a group of contacts at once (one query per group at most).

Each runner takes the batch, the step and the contacts due at it, records
what to write (outbox rows, tasks, exits) on the batch, and returns where
each contact goes next. `send` and `call` queue outbox rows; `wait` (when it
comes due) passes on; `branch` reads returns of this campaign (or a contact
condition in segment-rule form); `split` assigns a variant by a stable hash;
`task` queues SFA tasks; `goal` lets converted contacts exit.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ema.journey import CONVERSION_KIND, Journey, branch_kind, parse_duration
from ema.models import EnrolmentState
from ema.returns import Return
from ema.segment_rules import parse_time as journey_until
from ema.segments import RuleContext, compile_rules
from sfa.models import Contact

TaskCreator = Callable[[Session, Sequence[int], dict[str, Any], int, datetime], None]
"""(session, contact ids, task step, campaign id, now): records the tasks of a `task` step."""


@dataclass(slots=True)
class Position:
    """One claimed enrolment while the batch walks it through the journey."""

    enrolment_id: int
    contact_id: int
    variant: str | None


@dataclass
class Batch:
    """What one batch accumulates before writing it in bulk."""

    campaign_id: int
    journey: Journey
    now: datetime
    outbox: list[tuple[str, dict[str, Any], str | None, list[int]]] = field(default_factory=list)
    """(step id, content, channel, enrolment ids): one INSERT ... SELECT each."""
    wait_ends: dict[str, datetime] = field(default_factory=dict)
    passed: Counter[str] = field(default_factory=Counter)
    placements: dict[tuple[Any, ...], list[int]] = field(default_factory=lambda: defaultdict(list))
    tasks: list[tuple[dict[str, Any], list[int]]] = field(default_factory=list)


Moves = list[tuple[Position, str | None]]


def wait_until(step: dict[str, Any], now: datetime) -> datetime:
    if "until" in step:
        until = journey_until(step["until"])
        if until is None:
            raise ValueError(f"step {step['id']!r}: bad until (journeys are validated on save)")
        return until
    delta = parse_duration(step["duration"])
    if delta is None:
        raise ValueError(f"step {step['id']!r}: bad duration (journeys are validated on save)")
    return now + delta


def place(
    batch: Batch,
    position: Position,
    step_id: str | None,
    due_at: datetime | None,
    state: EnrolmentState,
) -> None:
    key = (step_id, due_at, state.value, position.variant)
    batch.placements[key].append(position.enrolment_id)


# ---------------------------------------------------------------- step runners


def _run_send(session: Session, batch: Batch, step: dict[str, Any], group: list[Position]) -> Moves:
    _queue_outbox(batch, step, group, step["content"], channel=None)
    return [(p, step.get("next")) for p in group]


def _run_call(session: Session, batch: Batch, step: dict[str, Any], group: list[Position]) -> Moves:
    _queue_outbox(batch, step, group, {"phone": step.get("script")}, channel="phone")
    return [(p, step.get("next")) for p in group]


def _queue_outbox(
    batch: Batch,
    step: dict[str, Any],
    group: list[Position],
    content: dict[str, Any],
    *,
    channel: str | None,
) -> None:
    batch.outbox.append((step["id"], content, channel, [p.enrolment_id for p in group]))


def _run_wait(session: Session, batch: Batch, step: dict[str, Any], group: list[Position]) -> Moves:
    return [(p, step.get("next")) for p in group]


def _run_branch(
    session: Session, batch: Batch, step: dict[str, Any], group: list[Position]
) -> Moves:
    kind = branch_kind(step)
    if kind is not None:
        matched = with_return(session, batch, kind, group)
    else:
        condition = compile_rules(step["condition"], RuleContext(now=batch.now))
        ids = [p.contact_id for p in group]
        matched = set(session.scalars(select(Contact.id).where(Contact.id.in_(ids), condition)))
    return [(p, step["then"] if p.contact_id in matched else step.get("else")) for p in group]


def with_return(session: Session, batch: Batch, kind: str, group: list[Position]) -> set[int]:
    ids = [p.contact_id for p in group]
    query = (
        select(Return.contact_id)
        .where(
            Return.campaign_id == batch.campaign_id,
            Return.kind == kind,
            ~Return.is_machine,
            Return.contact_id.in_(ids),
        )
        .distinct()
    )
    return {cid for cid in session.scalars(query) if cid is not None}


def _run_split(
    session: Session, batch: Batch, step: dict[str, Any], group: list[Position]
) -> Moves:
    variants = step["variants"]
    total = sum(v["weight"] for v in variants)
    moves: Moves = []
    for position in group:
        bucket = zlib.crc32(f"{batch.campaign_id}:{step['id']}:{position.contact_id}".encode())
        point = bucket % total
        for variant in variants:
            point -= variant["weight"]
            if point < 0:
                position.variant = variant["name"]
                moves.append((position, variant.get("next")))
                break
    return moves


def _run_task(session: Session, batch: Batch, step: dict[str, Any], group: list[Position]) -> Moves:
    batch.tasks.append((step, [p.contact_id for p in group]))
    return [(p, step.get("next")) for p in group]


def _run_goal(session: Session, batch: Batch, step: dict[str, Any], group: list[Position]) -> Moves:
    converted = with_return(session, batch, step.get("on", CONVERSION_KIND), group)
    moves: Moves = []
    for position in group:
        if position.contact_id in converted:
            place(batch, position, None, None, EnrolmentState.CONVERTED)
        else:
            moves.append((position, step.get("next")))
    return moves


STEP_RUNNERS: dict[str, Callable[[Session, Batch, dict[str, Any], list[Position]], Moves]] = {
    "send": _run_send,
    "call": _run_call,
    "wait": _run_wait,
    "branch": _run_branch,
    "split": _run_split,
    "task": _run_task,
    "goal": _run_goal,
}
