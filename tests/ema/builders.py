"""Builders for EMA planning tests: contacts, segments and campaigns through the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.auth import SYSTEM
from core.clock import Clock
from ema import content, segment_service, service
from ema.models import Campaign, Segment
from ema.schemas import CampaignCreate, SegmentCreate
from sfa import service as sfa_service
from sfa.schemas import ContactCreate


def contact(session: Session, clock: Clock, **fields: Any) -> int:
    """A live contact (through the SFA service); returns its id."""
    created = sfa_service.create_contact(
        session, ContactCreate(**fields), actor=SYSTEM, clock=clock
    )
    return created.id


def contacts(session: Session, clock: Clock, n: int, **fields: Any) -> list[int]:
    tag = fields.pop("tag", "c")
    return [contact(session, clock, email=f"{tag}{i}@x.io", **fields) for i in range(n)]


def segment(session: Session, clock: Clock, rules: dict[str, Any], name: str = "seg") -> Segment:
    return segment_service.create_segment(
        session, SegmentCreate(name=name, rules=rules), actor=SYSTEM, clock=clock
    )


def send(step_id: str, content_ids: dict[str, int], next_step: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"id": step_id, "type": "send", "content": content_ids}
    if next_step:
        step["next"] = next_step
    return step


def journey(*steps: dict[str, Any], start: str | None = None) -> dict[str, Any]:
    return {"start": start or steps[0]["id"], "steps": list(steps)}


CHANNELS = frozenset({"email", "sms", "webhook", "web", "post", "file", "phone"})


def campaign(
    session: Session,
    clock: Clock,
    segment_id: int,
    steps: dict[str, Any],
    **fields: Any,
) -> Campaign:
    """A draft campaign (phone available, so call steps validate)."""
    data = CampaignCreate(
        name=fields.pop("name", "camp"), segment_id=segment_id, journey=steps, **fields
    )
    return service.create_campaign(session, data, actor=SYSTEM, clock=clock, channels=CHANNELS)


def templates(session: Session, clock: Clock) -> dict[str, int]:
    """An email and an SMS template; returns their ids by channel."""
    email, _ = content.create_template(
        session,
        content.TemplateDraft(channel="email", name="e", subject="Hi", html="<p>Hi</p>"),
        actor=SYSTEM,
        clock=clock,
    )
    sms, _ = content.create_template(
        session,
        content.TemplateDraft(channel="sms", name="s", body="Hi"),
        actor=SYSTEM,
        clock=clock,
    )
    return {"email": email.id, "sms": sms.id}
