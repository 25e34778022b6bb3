"""Content: templates per channel with immutable versions.

A version is checked when it is saved: Jinja2 syntax (sandboxed, the line
is named), MJML compiled to HTML once with mjml-python (the HTML is stored,
so sending never compiles MJML again), and the fields each channel needs.
Rendering lives in `ema.rendering`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from mjml import mjml2html
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from channels.mime import wrap_html
from core.auth import Principal
from core.clock import Clock
from core.db import Base
from core.errors import InvalidInput, InvalidInputs, NotFound

CHANNELS = ("email", "sms", "phone", "web", "post", "webhook")


class Template(Base):
    """A named piece of content for one channel; its versions never change."""

    __tablename__ = "ema_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    latest_version: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TemplateVersion(Base):
    """One saved version: sources as written plus the compiled HTML for MJML."""

    __tablename__ = "ema_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("ema_templates.id", ondelete="CASCADE"))
    version: Mapped[int]
    subject: Mapped[str | None] = mapped_column(String(500))
    mjml: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    """The HTML to render: as written, or compiled from `mjml` when the version was saved."""
    text: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    """SMS text, a call script's opening, a letter's text."""
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Channel extras: talking points (phone), a page title (web), a print format (post)."""
    created_at: Mapped[datetime]


@dataclass
class TemplateDraft:
    """What a client sends to create a template or a new version of it."""

    channel: str
    name: str = ""
    subject: str | None = None
    mjml: str | None = None
    html: str | None = None
    text: str | None = None
    body: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with `dict.key` read straight from the dict: the context is
    plain data built by Campana, and the default path (attribute first, then a safety
    check) costs several times the render of a placeholder."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


def sandbox(*, html: bool) -> ImmutableSandboxedEnvironment:
    """The environment marketer-written content renders in (HTML autoescaped)."""
    return Sandbox(autoescape=html, keep_trailing_newline=True)


_CHECK_ENVS = {True: sandbox(html=True), False: sandbox(html=False)}


def check_jinja(source: str, field_name: str, *, html: bool) -> None:
    """InvalidInput naming the line when `source` is not valid Jinja2."""
    try:
        _CHECK_ENVS[html].parse(source)
    except TemplateSyntaxError as exc:
        raise InvalidInput(field_name, f"line {exc.lineno}: {exc.message}") from None


def compile_mjml(source: str) -> str:
    """MJML -> HTML, errors with a line number when mjml-python gives a position."""
    check_jinja(source, "mjml", html=True)
    try:
        html = mjml2html(source)
    except ValueError as exc:
        raise InvalidInput("mjml", _mjml_reason(source, str(exc))) from None
    if not isinstance(html, str) or "<html" not in html:
        raise InvalidInput("mjml", "not an MJML document (expected <mjml><mj-body>...)")
    check_jinja(html, "mjml", html=True)
    return html


def _mjml_reason(source: str, message: str) -> str:
    match = re.search(r"(?:position|offset|at)\D{0,3}(\d+)", message)
    if match:
        offset = min(int(match.group(1)), len(source))
        return f"line {source.count(chr(10), 0, offset) + 1}: {message}"
    lines = source.count("\n") + 1
    return f"line {lines}: {message}" if "end of stream" in message else message


def _validate(draft: TemplateDraft) -> TemplateDraft:
    errors: list[InvalidInput] = []
    if draft.channel not in CHANNELS:
        raise InvalidInput("channel", f"must be one of {', '.join(CHANNELS)}")
    needs = {
        "email": ("subject",),
        "sms": ("body",),
        "phone": ("body",),
        "web": (),
        "post": (),
        "webhook": (),
    }[draft.channel]
    errors.extend(
        InvalidInput(name, f"required for the {draft.channel} channel")
        for name in needs
        if not getattr(draft, name)
    )
    if draft.channel in ("email", "web", "post"):
        sources = [name for name in ("mjml", "html") if getattr(draft, name)]
        if len(sources) != 1 and not (draft.channel == "post" and draft.body):
            errors.append(InvalidInput("mjml", "give exactly one of mjml or html"))
    url = draft.data.get("url")
    if draft.channel == "webhook" and not (
        isinstance(url, str) and url.startswith(("http://", "https://"))
    ):
        errors.append(InvalidInput("data.url", "a webhook needs an http(s) URL"))
    if errors:
        raise InvalidInputs(errors)
    for name in ("subject", "text", "body"):
        value = getattr(draft, name)
        if value:
            check_jinja(value, name, html=False)
    if draft.html:
        check_jinja(draft.html, "html", html=True)
    return draft


def _new_version(
    draft: TemplateDraft, template_id: int, number: int, now: datetime
) -> TemplateVersion:
    html = compile_mjml(draft.mjml) if draft.mjml else draft.html
    html = wrap_html(html) if html else html
    return TemplateVersion(
        template_id=template_id,
        version=number,
        subject=draft.subject,
        mjml=draft.mjml,
        html=html,
        text=draft.text,
        body=draft.body,
        data=dict(draft.data),
        created_at=now,
    )


def create_template(
    session: Session, draft: TemplateDraft, *, actor: Principal, clock: Clock
) -> tuple[Template, TemplateVersion]:
    """A new template with its version 1."""
    _validate(draft)
    if not draft.name.strip():
        raise InvalidInput("name", "must not be empty")
    now = clock.now()
    template = Template(
        name=draft.name.strip(),
        channel=draft.channel,
        latest_version=1,
        created_by=actor.key_name,
        created_at=now,
        updated_at=now,
    )
    version = _new_version(draft, 0, 1, now)
    session.add(template)
    session.flush()
    version.template_id = template.id
    session.add(version)
    session.flush()
    return template, version


def add_version(
    session: Session, template_id: int, draft: TemplateDraft, *, actor: Principal, clock: Clock
) -> TemplateVersion:
    """Save the next version; earlier versions (and messages sent from them) stay as they were."""
    del actor
    template = get_template(session, template_id, for_update=True)
    if draft.channel != template.channel:
        raise InvalidInput("channel", f"this template is for {template.channel}")
    _validate(draft)
    template.latest_version += 1
    template.updated_at = clock.now()
    version = _new_version(draft, template.id, template.latest_version, clock.now())
    session.add(version)
    session.flush()
    return version


def get_template(session: Session, template_id: int, *, for_update: bool = False) -> Template:
    query = select(Template).where(Template.id == template_id)
    template = session.scalar(query.with_for_update() if for_update else query)
    if template is None:
        raise NotFound("template", template_id)
    return template


def get_version(session: Session, template_id: int, version: int | None = None) -> TemplateVersion:
    """A version of a template; the latest when `version` is None."""
    if version is None:
        version = get_template(session, template_id).latest_version
    row = session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template_id, TemplateVersion.version == version
        )
    )
    if row is None:
        raise NotFound("template version", f"{template_id}/{version}")
    return row


def check_template(session: Session, channel: str, template_id: int) -> str | None:
    """For journey validation: None when `template_id` is content for `channel`, else why not."""
    found = session.scalar(select(Template.channel).where(Template.id == template_id))
    if found is None:
        return f"template {template_id} does not exist"
    if found != channel:
        return f"template {template_id} is for {found}, not {channel}"
    return None
