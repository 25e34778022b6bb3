"""Everything that ties the domain packages together, in one place.

Models, event subscriptions, scheduled jobs, worker steps and demo loaders
are declared here as plain data: nothing registers itself by being imported.
Links between sibling packages that may not import each other live here too.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from sqlalchemy.orm import Session

from core import demo as core_demo
from core.clock import Clock
from core.events import EventBus
from core.scheduler import Drainer, JobSpec
from core.settings import Settings
from sfa import demo as sfa_demo
from sfa import jobs as sfa_jobs
from sfa.timeline import TimelineSource

MODEL_MODULES: tuple[str, ...] = (
    "core.auth",
    "core.scheduler",
    "sfa.models",
    "sfa.lead_models",
    "sfa.pipeline_models",
    "ema.outbox",
    "ema.returns",
)

TIMELINE_SOURCES: dict[str, TimelineSource] = {}
"""The modules' histories merged into a contact's timeline (besides SFA's own entries)."""

ALL_JOBS: tuple[JobSpec, ...] = (*sfa_jobs.JOBS,)
"""Every scheduled job of every package; ids are unique (a structure test checks)."""

ALL_DRAINERS: tuple[Drainer, ...] = ()
"""The steps a `campana worker` loops over."""

DemoLoader = Callable[[Session, Clock], str]
"""Loads one module's demo data and returns a one-line summary."""


DEMO_LOADERS: tuple[tuple[str, DemoLoader], ...] = (
    ("core", core_demo.load),
    ("sfa", sfa_demo.load),
)


def import_models() -> None:
    """Import every module that declares tables, so `Base.metadata` knows them all."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


def build_bus(settings: Settings) -> EventBus:
    """The event bus with every package's subscriptions and the sibling links."""
    del settings  # sibling links that need configuration read it here
    return EventBus()
