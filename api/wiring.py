"""Everything that ties the domain packages together, in one place.

Models, event subscriptions, scheduled jobs, worker steps and demo loaders
are declared here as plain data: nothing registers itself by being imported.
Links between sibling packages that may not import each other live here too.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from email.utils import parseaddr

from sqlalchemy.orm import Session

from channels.email import SmtpChannel
from channels.file import FileChannel
from channels.post import PostChannel
from channels.registry import ChannelRegistry
from channels.sms import SmsChannel
from channels.web import WebChannel
from channels.webhook import WebhookChannel
from configurator import audience as configurator_audience
from configurator import demo as configurator_demo
from configurator import history as configurator_history
from configurator import jobs as configurator_jobs
from configurator import profile as configurator_profile
from configurator.events import ConfigurationOrdered
from configurator.models import Order as ConfiguratorOrder
from core import demo as core_demo
from core.clock import Clock
from core.events import EventBus
from core.history import TimelineSource
from core.scheduler import Drainer, JobSpec, node_name
from core.settings import Settings
from ema import conversions as ema_conversions
from ema import demo as ema_demo
from ema import handlers as ema_handlers
from ema import history as ema_history
from ema import jobs as ema_jobs
from ema.dispatch import Dispatcher, RateLimit
from ema.events import CampaignTaskOverdue
from ema.rendering import Renderer
from ema.segment_rules import ExternalRule, install_external_rules
from ema.tokens import Signer
from sfa import demo as sfa_demo
from sfa import jobs as sfa_jobs
from sfa.events import ContactMerged, OpportunityWon

MODEL_MODULES: tuple[str, ...] = (
    "core.auth",
    "core.scheduler",
    "sfa.models",
    "sfa.lead_models",
    "sfa.pipeline_models",
    "ema.outbox",
    "ema.returns",
    "ema.models",
    "channels.models",
    "ema.content",
    "configurator.models",
)

TIMELINE_SOURCES: dict[str, TimelineSource] = {
    "ema": ema_history.ema_source,
    "configurator": configurator_history.configurator_source,
}
"""The modules' histories merged into a contact's timeline (besides SFA's own entries)."""

SEGMENT_RULES: dict[str, ExternalRule] = {
    "configuration": configurator_audience.ConfigurationRule(),
}
"""Segment rule kinds other packages compile (EMA may not import them)."""

ALL_JOBS: tuple[JobSpec, ...] = (*sfa_jobs.JOBS, *ema_jobs.JOBS, *configurator_jobs.JOBS)
"""Every scheduled job of every package; ids are unique (a structure test checks)."""


def build_channels(settings: Settings) -> ChannelRegistry:
    """The delivery adapters of this process (`phone` is added by the call center)."""
    registry = ChannelRegistry()
    if settings.smtp.host:
        registry.register(SmtpChannel(settings.smtp))
    else:
        registry.register(FileChannel(settings.file_channel_dir, settings.smtp.sender))
    if settings.sms.gateway_url:
        registry.register(SmsChannel(settings.sms))
    registry.register(WebhookChannel(settings.webhook, settings.signing_key()))
    registry.register(WebChannel())
    registry.register(PostChannel(settings.data_dir / "post", node_name()))
    return registry


def build_dispatcher(settings: Settings) -> Dispatcher:
    """The outbox dispatcher: channels plus a renderer that keeps compiled templates."""
    renderer = Renderer(
        Signer(settings.signing_key()),
        settings.base_url,
        parseaddr(settings.smtp.sender)[1].rpartition("@")[2] or "localhost",
        products=configurator_profile.latest_products,
    )
    limits = {c: RateLimit(rate) for c, rate in settings.worker.rate_limits.items()}
    return Dispatcher(build_channels(settings), renderer, rate_limits=limits)


def drainers(dispatcher: Dispatcher) -> tuple[Drainer, ...]:
    """The steps a `campana worker` loops over."""
    return (dispatcher.drain,)


DemoLoader = Callable[[Session, Clock], str]
"""Loads one module's demo data and returns a one-line summary."""


DEMO_LOADERS: tuple[tuple[str, DemoLoader], ...] = (
    ("core", core_demo.load),
    ("sfa", sfa_demo.load),
    ("ema", ema_demo.load),
    ("configurator", configurator_demo.load),
)


def import_models() -> None:
    """Import every module that declares tables, so `Base.metadata` knows them all."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


def build_bus(settings: Settings) -> EventBus:
    """The event bus with every package's subscriptions and the sibling links."""
    del settings  # sibling links that need configuration read it here
    install_external_rules(SEGMENT_RULES)
    bus = EventBus()
    bus.subscribe(ContactMerged, ema_handlers.on_contact_merged)
    bus.subscribe(OpportunityWon, ema_handlers.on_opportunity_won)
    bus.subscribe(CampaignTaskOverdue, ema_handlers.on_campaign_task_overdue)
    bus.subscribe(ConfigurationOrdered, on_configuration_ordered)
    return bus


def on_configuration_ordered(session: Session, event: ConfigurationOrdered) -> None:
    """A configured product ordered is a conversion for EMA (handed over as plain values)."""
    order = session.get(ConfiguratorOrder, event.order_id)
    if order is None:
        return
    ema_conversions.record_conversion(
        session,
        contact_id=event.contact_id,
        email=event.contact_email,
        occurred_at=order.created_at,
        detail={
            "source": ConfigurationOrdered.name,
            "ref": f"configuration_order:{event.order_id}",
            "order_id": event.order_id,
            "configuration_id": event.configuration_id,
            "product": event.product_slug,
            "price": event.price,
        },
    )
