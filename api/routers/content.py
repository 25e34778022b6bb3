"""Templates per channel with versions, and a preview for one contact."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ClockDep, DispatcherDep, SessionDep, require
from channels.sms import segments
from core.auth import Principal, Role
from core.errors import InvalidInput, NotFound
from ema.content import TemplateDraft, add_version, create_template, get_template, get_version
from ema.rendering import Addressing, RenderError, contact_context
from sfa.models import Contact

router = APIRouter(prefix="/api/v1/templates", tags=["content"])
Planner = Annotated[Principal, Depends(require(Role.PLANNER))]


class TemplateIn(BaseModel):
    """A template version: `mjml` or `html` for email/web, `body` for sms, phone and post."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    channel: str = Field(examples=["email"])
    subject: str | None = Field(default=None, max_length=500)
    mjml: str | None = None
    html: str | None = None
    text: str | None = None
    body: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def draft(self) -> TemplateDraft:
        return TemplateDraft(**self.model_dump())


class TemplateOut(BaseModel):
    id: int
    name: str
    channel: str
    version: int
    created_at: datetime


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    template_id: int
    version: int
    subject: str | None
    mjml: str | None
    html: str | None
    text: str | None
    body: str | None
    data: dict[str, Any]
    created_at: datetime


class PreviewIn(BaseModel):
    contact_id: int
    version: int | None = None


class PreviewOut(BaseModel):
    channel: str
    to: str | None
    subject: str | None
    html: str | None
    text: str | None
    headers: dict[str, str]
    sms_encoding: str | None = None
    sms_segments: int | None = None


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a template (version 1)")
def post_template(
    body: TemplateIn, session: SessionDep, principal: Planner, clock: ClockDep
) -> TemplateOut:
    template, version = create_template(session, body.draft(), actor=principal, clock=clock)
    return TemplateOut(
        id=template.id,
        name=template.name,
        channel=template.channel,
        version=version.version,
        created_at=template.created_at,
    )


@router.get("/{template_id}", summary="A template's latest version")
def read_template(template_id: int, session: SessionDep, _: Planner) -> VersionOut:
    return VersionOut.model_validate(get_version(session, template_id))


@router.post(
    "/{template_id}/versions",
    status_code=status.HTTP_201_CREATED,
    summary="Save the next version of a template",
)
def post_version(
    template_id: int, body: TemplateIn, session: SessionDep, principal: Planner, clock: ClockDep
) -> TemplateOut:
    version = add_version(session, template_id, body.draft(), actor=principal, clock=clock)
    template = get_template(session, template_id)
    return TemplateOut(
        id=template.id,
        name=template.name,
        channel=template.channel,
        version=version.version,
        created_at=version.created_at,
    )


@router.post("/{template_id}/preview", summary="Render a template for one contact")
def preview(
    template_id: int, body: PreviewIn, session: SessionDep, dispatcher: DispatcherDep, _: Planner
) -> PreviewOut:
    contact = session.get(Contact, body.contact_id)
    if contact is None:
        raise NotFound("contact", body.contact_id)
    renderer = dispatcher.renderer
    compiled = renderer.compiled(session, template_id, body.version)
    address = contact.phone if compiled.channel in ("sms", "phone") else contact.email
    context = {
        "contact": contact_context(contact),
        "campaign": {"id": 0, "name": "Preview"},
        "product": renderer.products_for(session, [contact.id]).get(contact.id),
    }
    try:
        message = renderer.render(compiled, Addressing(0, 0, address or ""), context)
    except RenderError as exc:
        raise InvalidInput("template", str(exc)) from None
    encoding, count = segments(message.text or "") if compiled.channel == "sms" else (None, None)
    return PreviewOut(
        channel=compiled.channel,
        to=message.to or None,
        subject=message.subject,
        html=message.html,
        text=message.text,
        headers=dict(message.headers),
        sms_encoding=encoding,
        sms_segments=count,
    )
