"""The process-wide objects every entry point needs, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api import wiring
from core.auth import PrincipalCache
from core.clock import CLOCK_KEY, Clock, SystemClock
from core.db import make_engine, make_session_factory
from core.events import BUS_KEY, EventBus
from core.scheduler import JobContext
from core.settings import Settings
from ema.dispatch import Dispatcher


@dataclass
class Runtime:
    """Engine, sessions, event bus, clock and caches of one Campana process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    bus: EventBus
    clock: Clock
    principals: PrincipalCache = field(init=False)
    dispatcher: Dispatcher = field(init=False)
    """Channels and compiled templates of this process, built once."""

    def __post_init__(self) -> None:
        self.principals = PrincipalCache(self.settings.auth_cache_seconds)
        self.dispatcher = wiring.build_dispatcher(self.settings)

    def job_context(self) -> JobContext:
        return JobContext(self.session_factory, self.settings, self.clock)

    def dispose(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    """Wire the process: engine, event bus with every subscription, session factory."""
    wiring.import_models()
    engine = make_engine(settings.database_url)
    bus = wiring.build_bus(settings)
    clock = clock or SystemClock()
    factory = make_session_factory(engine, **{BUS_KEY: bus, CLOCK_KEY: clock})
    return Runtime(settings, engine, factory, bus, clock)
