"""Rendering alone: compiled MJML + sandboxed Jinja2 + tracking + MIME, per contact.

The figure is personalised emails per second from a marketing email of
about 80 MJML lines with 15 placeholders, compiled once; the goal is at
least 5,000/s. The baseline is the same render finished with Python's
`email` package (`EmailMessage.as_bytes()`), the slow path the fast MIME
assembly replaces.

Run: `.venv/bin/python -m bench.bench_render [--count 20000]`
"""

from __future__ import annotations

import argparse
import time
from email.message import EmailMessage
from email.policy import SMTP
from types import SimpleNamespace
from typing import Any

from bench.harness import note, report
from channels.base import Message
from channels.mime import build_mime, wrap_html
from ema.content import TemplateVersion, compile_mjml
from ema.rendering import Addressing, CompiledVersion, Renderer, contact_context
from ema.tokens import Signer

MJML = """<mjml>
  <mj-head>
    <mj-title>{{ campaign.name }}</mj-title>
    <mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /></mj-attributes>
  </mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section background-color="#ffffff" padding="20px">
      <mj-column>
        <mj-image width="120px" src="https://cdn.example.com/logo.png" alt="Logo" />
        <mj-text font-size="22px" color="#333333">Hello {{ contact.first_name }},</mj-text>
        <mj-text font-size="15px" line-height="22px">
          As a {{ contact.job_title or 'professional' }} in {{ contact.country or 'your country' }},
          you may like what {{ campaign.name }} brings this season.
        </mj-text>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff">
      <mj-column width="50%">
        <mj-image src="https://cdn.example.com/p1.jpg" alt="Product one" />
        <mj-text>
          {{ contact.attributes.get('segment', 'Our pick') }} for {{ contact.first_name }}
        </mj-text>
        <mj-button background-color="#e85034"
          href="https://shop.example.com/p1?ref={{ contact.id }}">
          Discover
        </mj-button>
      </mj-column>
      <mj-column width="50%">
        <mj-image src="https://cdn.example.com/p2.jpg" alt="Product two" />
        <mj-text>
          Only {{ contact.attributes.get('points', 0) }} points away from your reward.
        </mj-text>
        <mj-button background-color="#e85034"
          href="https://shop.example.com/p2?ref={{ contact.id }}">
          See rewards
        </mj-button>
      </mj-column>
    </mj-section>
    <mj-section background-color="#ffffff">
      <mj-column>
        <mj-divider border-color="#eeeeee" />
        <mj-text font-size="13px" color="#666666">
          {% if contact.language == 'pt' %}Obrigado, {{ contact.first_name }}!{% else %}Thank you,
          {{ contact.first_name }} {{ contact.last_name }}!{% endif %}
        </mj-text>
        <mj-social mode="horizontal">
          <mj-social-element name="facebook" href="https://facebook.com/example">Facebook</mj-social-element>
          <mj-social-element name="twitter" href="https://twitter.com/example">Twitter</mj-social-element>
        </mj-social>
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-text font-size="11px" color="#999999" align="center">
          You receive this email as {{ contact.email }}.
          <a href="{{ unsubscribe_url }}">Unsubscribe</a> at any time.
          Example Ltd, 1 Main Street, Lisbon.
        </mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""
SUBJECT = "{{ contact.first_name }}, {{ campaign.name }} has news for you"
TEXT = """Hello {{ contact.first_name }},

{{ campaign.name }} brings news for {{ contact.job_title or 'you' }}.
Discover: https://shop.example.com/p1?ref={{ contact.id }}
Unsubscribe: {{ unsubscribe_url }}
"""


def fake_contact(n: int) -> SimpleNamespace:
    return SimpleNamespace(
        id=n,
        first_name=f"Ana{n}",
        last_name="Silva",
        email=f"ana{n}@example.com",
        phone=None,
        country="PT",
        language="pt" if n % 2 else "en",
        job_title="buyer",
        time_zone="UTC",
        attributes={"segment": "Gold", "points": n % 500},
    )


def compiled_version(renderer: Renderer) -> CompiledVersion:
    """The version as `ema.content` saves it and the renderer compiles it (without a DB)."""
    row = TemplateVersion(
        template_id=1, version=1, subject=SUBJECT, text=TEXT, html=wrap_html(compile_mjml(MJML))
    )
    return renderer.compile(row, "email")


def as_bytes_baseline(message: Message, sender: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, message.to, message.subject or ""
    mail["Message-ID"] = message.message_id
    for name, value in message.headers:
        mail[name] = value
    mail.set_content(message.text or "")
    mail.add_alternative(message.html or "", subtype="html")
    return mail.as_bytes(policy=SMTP)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    args = parser.parse_args()
    renderer = Renderer(Signer(b"bench-key"), "https://mail.example.com", "example.com")
    compiled = compiled_version(renderer)
    campaign: dict[str, Any] = {"id": 1, "name": "Spring Sale"}
    contexts = [
        {"contact": contact_context(fake_contact(n)), "campaign": campaign, "product": None}
        for n in range(args.count)
    ]
    sender = "Campana <news@example.com>"
    started = time.perf_counter()
    size = 0
    for n, context in enumerate(contexts):
        message = renderer.render(compiled, Addressing(n + 1, 1, f"ana{n}@example.com"), context)
        size += len(build_mime(message, sender))
    rate = args.count / (time.perf_counter() - started)
    baseline_count = max(200, args.count // 20)
    started = time.perf_counter()
    for n, context in enumerate(contexts[:baseline_count]):
        message = renderer.render(compiled, Addressing(n + 1, 1, f"ana{n}@example.com"), context)
        as_bytes_baseline(message, sender)
    baseline = baseline_count / (time.perf_counter() - started)
    note(f"{args.count} messages, {size / args.count / 1024:.1f} KB each on average")
    note(f"baseline: same render + EmailMessage.as_bytes(): {baseline:.0f}/s")
    note("goal: >= 5000 personalised emails/s")
    report("render personalised MJML email", rate, "emails/s", baseline)


if __name__ == "__main__":
    main()
