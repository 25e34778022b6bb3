"""Rendering: compiled templates per (template, version), personalised per contact.

Each version's Jinja2 templates are compiled once in the immutable sandbox
and kept in a process-wide cache; a message costs one render per part plus
link signing. Email HTML gets its links rewritten to signed click
redirects, an open pixel and an unsubscribe URL (`{{ unsubscribe_url }}`).
Templates see `contact`, `campaign`, `variant` and `product` (the contact's
latest configured product, or None), the last from an injected provider.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from html import unescape
from typing import Any

from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError, TemplateError
from sqlalchemy.orm import Session

from channels.base import Message
from ema.content import TemplateVersion, get_template, get_version, sandbox
from ema.tokens import Signer

SEPARATOR = "\x1e\x1d\x1e"
_HREF = re.compile(r'(<a\s[^>]*?\bhref=")(https?://[^"]+)"', re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_BLANK_LINES = re.compile(r"\n\s*\n+")


ProductContext = Callable[[Session, Iterable[int]], Mapping[int, Mapping[str, Any]]]
"""(session, contact ids) -> what templates see as `product`, per contact that has one,
loaded in one query for the whole batch (the configurator's, handed over by api/wiring.py)."""


class RenderError(Exception):
    """A template that fails for this contact (the message fails permanently)."""


@dataclass(frozen=True)
class CompiledVersion:
    """The Jinja2 templates of one version, compiled once."""

    template_id: int
    version: int
    channel: str
    subject: JinjaTemplate | None
    html: JinjaTemplate | None
    text: JinjaTemplate | None
    body: JinjaTemplate | None
    data: Mapping[str, Any]
    combined: JinjaTemplate | None = None
    """Subject, text and HTML in one template (one render call instead of three)."""


@dataclass(frozen=True)
class Addressing:
    """Who a message is for and which outbox row it is."""

    outbox_id: int
    campaign_id: int
    to: str


def contact_context(contact: Any) -> dict[str, Any]:
    """What templates see as `contact` (never the raw ORM object)."""
    return {
        "id": contact.id,
        "first_name": contact.first_name or "",
        "last_name": contact.last_name or "",
        "name": " ".join(p for p in (contact.first_name, contact.last_name) if p),
        "email": contact.email,
        "phone": contact.phone,
        "country": contact.country,
        "language": contact.language,
        "job_title": contact.job_title,
        "time_zone": contact.time_zone,
        "attributes": dict(contact.attributes or {}),
    }


class Renderer:
    """Compiles versions on first use and renders messages for contacts."""

    def __init__(
        self, signer: Signer, base_url: str, domain: str, products: ProductContext | None = None
    ) -> None:
        self.signer = signer
        self.products = products
        self.base_url = base_url.rstrip("/")
        self.domain = domain
        self._html_env = sandbox(html=True)
        self._text_env = sandbox(html=False)
        self._cache: dict[tuple[int, int | None], CompiledVersion] = {}

    def products_for(
        self, session: Session, contact_ids: Iterable[int]
    ) -> Mapping[int, Mapping[str, Any]]:
        """The `product` of each contact that configured one (none without a provider)."""
        return self.products(session, contact_ids) if self.products is not None else {}

    def compiled(
        self, session: Session, template_id: int, version: int | None = None
    ) -> CompiledVersion:
        """The compiled version (the latest when `version` is None)."""
        template = get_template(session, template_id)
        key = (template_id, version or template.latest_version)
        found = self._cache.get(key)
        if found is None:
            found = self.compile(get_version(session, *key), template.channel)
            self._cache[key] = found
        return found

    def compile(self, row: TemplateVersion, channel: str) -> CompiledVersion:
        combined = None
        if row.subject and row.text and row.html:
            combined = self._html_env.from_string(
                "{% autoescape false %}"
                + row.subject
                + SEPARATOR
                + row.text
                + "{% endautoescape %}"
                + SEPARATOR
                + row.html
            )
        return CompiledVersion(
            row.template_id,
            row.version,
            channel,
            self._text(row.subject),
            self._html_env.from_string(row.html) if row.html else None,
            self._text(row.text),
            self._text(row.body),
            dict(row.data or {}),
            combined,
        )

    def _text(self, source: str | None) -> JinjaTemplate | None:
        return self._text_env.from_string(source) if source else None

    def message_id(self, outbox_id: int, campaign_id: int) -> str:
        mac = self.signer.sign("m", outbox_id).rsplit(".", 1)[1][:10]
        return f"<{campaign_id}.{outbox_id}.{mac}@{self.domain}>"

    def render(self, compiled: CompiledVersion, to: Addressing, context: dict[str, Any]) -> Message:
        """The message for one contact; RenderError when the template fails for them."""
        try:
            return self._render(compiled, to, context)
        except (TemplateError, SecurityError, TypeError, ValueError) as exc:
            raise RenderError(
                f"template {compiled.template_id} v{compiled.version}: {exc}"
            ) from exc

    def _render(
        self, compiled: CompiledVersion, to: Addressing, context: dict[str, Any]
    ) -> Message:
        oid = to.outbox_id
        unsubscribe = f"{self.base_url}/t/u/{self.signer.sign('u', oid)}"
        context = {**context, "unsubscribe_url": unsubscribe}
        message_id = self.message_id(oid, to.campaign_id)
        parts = compiled.combined.render(context).split(SEPARATOR) if compiled.combined else ()
        subject: str | None
        text: str | None
        raw_html: str | None
        if len(parts) == 3:
            subject, text, raw_html = parts[0].strip(), parts[1], parts[2]
        else:
            subject = compiled.subject.render(context).strip() if compiled.subject else None
            text = compiled.text.render(context) if compiled.text else None
            raw_html = compiled.html.render(context) if compiled.html else None
        html = self._tracked_html(raw_html, oid) if raw_html is not None else None
        body = compiled.body.render(context) if compiled.body else None
        if compiled.channel == "email":
            if text is None and html is not None:
                text = _BLANK_LINES.sub("\n\n", _TAGS.sub("", html)).strip() + "\n"
            headers = (
                ("List-Unsubscribe", f"<{unsubscribe}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            )
            return Message(oid, "email", to.to, message_id, subject, text, html, headers)
        data = {**compiled.data, "unsubscribe_url": unsubscribe}
        address = to.to
        if compiled.channel == "web":
            data["url"] = f"{self.base_url}/t/w/{self.signer.sign('w', oid)}"
        elif compiled.channel == "webhook":
            address = str(compiled.data.get("url", ""))
            data = {**data, "contact": context.get("contact"), "campaign": context.get("campaign")}
        elif compiled.channel == "post":
            data["name"] = (context.get("contact") or {}).get("name", "")
        return Message(
            oid, compiled.channel, address, message_id, subject, body or text, html, (), data
        )

    def _tracked_html(self, html: str, outbox_id: int) -> str:
        signer, base = self.signer, self.base_url

        def track(match: re.Match[str]) -> str:
            url = unescape(match.group(2))
            if url.startswith(base + "/t/"):
                return match.group(0)
            return f'{match.group(1)}{base}/t/c/{signer.sign("c", outbox_id, url)}"'

        html = _HREF.sub(track, html)
        pixel = (
            f'<img src="{base}/t/o/{signer.sign("o", outbox_id)}.gif" width="1" height="1" '
            'alt="" style="display:none">'
        )
        at = html.rfind("</body>")
        return html[:at] + pixel + html[at:] if at >= 0 else html + pixel
