"""Demo data of the planning side: a segment and a running three-step journey.

The campaign's audience is live, so contacts that other demo loaders (or the
API) create later are enrolled on the next tick of `ema.advance_journeys`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import SYSTEM
from core.clock import Clock
from ema import content, segment_service, service, tasks
from ema.models import Audience, Segment, TaskStatus
from ema.schemas import CampaignCreate, SegmentCreate, TaskCreate, TaskUpdate

SEGMENT_NAME = "Demo: reachable by email"

WELCOME_HTML = "<p>Hello {{ contact.first_name or 'there' }}, welcome to Campana!</p>"


def _templates(session: Session, clock: Clock) -> tuple[int, int]:
    email, _ = content.create_template(
        session,
        content.TemplateDraft(
            channel="email",
            name="Demo welcome email",
            subject="Welcome, {{ contact.first_name or 'friend' }}",
            html=WELCOME_HTML,
            text="Hello {{ contact.first_name or 'there' }}, welcome to Campana!",
        ),
        actor=SYSTEM,
        clock=clock,
    )
    sms, _ = content.create_template(
        session,
        content.TemplateDraft(
            channel="sms", name="Demo reminder SMS", body="Did you see our welcome email?"
        ),
        actor=SYSTEM,
        clock=clock,
    )
    return email.id, sms.id


def load(session: Session, clock: Clock) -> str:
    """Create the demo segment, templates and a launched campaign; a second run does nothing."""
    if session.scalar(select(Segment.id).where(Segment.name == SEGMENT_NAME)) is not None:
        return "ema: demo campaign already loaded"
    rules = {"all": [{"field": "email", "op": "is_null", "value": False}]}
    segment = segment_service.create_segment(
        session, SegmentCreate(name=SEGMENT_NAME, rules=rules), actor=SYSTEM, clock=clock
    )
    email_id, sms_id = _templates(session, clock)
    journey = {
        "start": "welcome",
        "steps": [
            {"id": "welcome", "type": "send", "content": {"email": email_id}, "next": "pause"},
            {"id": "pause", "type": "wait", "duration": "PT5M", "next": "reminder"},
            {"id": "reminder", "type": "send", "content": {"sms": sms_id}},
        ],
    }
    campaign = service.create_campaign(
        session,
        CampaignCreate(
            name="Demo welcome journey",
            objective="Welcome new contacts",
            segment_id=segment.id,
            budget=100,
            channel_costs={"email": 0.001, "sms": 0.05},
            audience=Audience.LIVE,
            journey=journey,
        ),
        actor=SYSTEM,
        clock=clock,
    )
    design = tasks.create_task(
        session, campaign.id, TaskCreate(name="Design the welcome email"), actor=SYSTEM, clock=clock
    )
    tasks.update_task(
        session,
        campaign.id,
        design.id,
        TaskUpdate(status=TaskStatus.DONE),
        actor=SYSTEM,
        clock=clock,
    )
    service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
    return f"ema: demo segment {segment.id} and running campaign {campaign.id} (3 steps)"
