"""The scheduler runner: jobs declared as data, one leader at a time.

Database rows hold the truth (`due_at`, `state`); APScheduler is only the
alarm clock that calls each job every few seconds. Two schedulers sharing
jobs would run them twice, so a scheduler runs jobs only while it holds the
leader lock: a PostgreSQL advisory lock on a dedicated connection (released
by the server the moment the leader's connection dies), always held on
SQLite, where one process owns the file. Standbys retry the lock every
`standby_poll_seconds` and take over within seconds of a leader's death.

Workers are the other kind of background loop: any number of them run side
by side, each calling its drain functions until they report no more work.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Connection, Engine, String, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from core.clock import Clock
from core.db import Base, session_scope
from core.settings import Settings

logger = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x43414D50  # "CAMP": one advisory lock id for every Campana scheduler


@dataclass(frozen=True)
class JobContext:
    """What a job needs: a way to open transactions, the settings and the time."""

    session_factory: sessionmaker[Session]
    settings: Settings
    clock: Clock


JobFunc = Callable[[JobContext], object]


@dataclass(frozen=True)
class JobSpec:
    """A job to run every `every_seconds`; `id` is `<package>.<verb_noun>` and stable."""

    id: str
    func: JobFunc
    every_seconds: float | None = None
    description: str = ""


Drainer = Callable[[JobContext], int]
"""A worker step: does one batch of work and returns how many items it handled."""


class SchedulerNode(Base):
    """One row per scheduler process; the leader stamps `beat_at` while it leads."""

    __tablename__ = "core_scheduler_nodes"

    node: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime | None]
    leading_since: Mapped[datetime | None]


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaderLock:
    """The right to run jobs: a PostgreSQL advisory lock, or always granted on SQLite."""

    def __init__(self, engine: Engine, key: int = LEADER_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: Connection | None = None
        self._always = engine.dialect.name == "sqlite"

    def try_acquire(self) -> bool:
        if self._always or self.is_held():
            return True
        connection = self._engine.connect()
        try:
            got = connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key})
            connection.commit()
        except DBAPIError:
            connection.close()
            return False
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def is_held(self) -> bool:
        """Still ours? A dead connection means the server has released the lock."""
        if self._always:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except DBAPIError:
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            self._connection.commit()
        except DBAPIError:
            logger.warning("could not release the leader lock cleanly", exc_info=True)
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None


def heartbeat(ctx: JobContext, node: str) -> None:
    """Stamp this node as the live leader."""
    now = ctx.clock.now()
    with session_scope(ctx.session_factory) as session:
        row = session.get(SchedulerNode, node)
        if row is None:
            row = SchedulerNode(node=node, started_at=now, leading_since=now)
            session.add(row)
        row.beat_at = now
        if row.leading_since is None:
            row.leading_since = now


def current_leader(session: Session) -> SchedulerNode | None:
    """The node that beat last (the leader, if its beat is recent)."""
    return session.scalar(select(SchedulerNode).order_by(SchedulerNode.beat_at.desc()).limit(1))


@dataclass
class SchedulerRunner:
    """Runs `jobs` while holding the leader lock; stands by otherwise."""

    ctx: JobContext
    engine: Engine
    jobs: Sequence[JobSpec]
    node: str = field(default_factory=node_name)
    stop_event: threading.Event = field(default_factory=threading.Event)
    is_leader: bool = False

    def run(self) -> None:
        """Block until `stop()`: lead when possible, stand by otherwise."""
        lock = LeaderLock(self.engine)
        poll = self.ctx.settings.scheduler.standby_poll_seconds
        try:
            while not self.stop_event.is_set():
                if lock.try_acquire():
                    self._lead(lock)
                else:
                    self.stop_event.wait(poll)
        finally:
            lock.release()

    def stop(self) -> None:
        self.stop_event.set()

    def _lead(self, lock: LeaderLock) -> None:
        logger.info("scheduler %s leads", self.node)
        scheduler = self._build()
        scheduler.start()
        self.is_leader = True
        beat = self.ctx.settings.scheduler.heartbeat_seconds
        try:
            while not self.stop_event.wait(beat):
                if not lock.is_held():
                    logger.warning("scheduler %s lost the leader lock", self.node)
                    break
        finally:
            self.is_leader = False
            scheduler.shutdown(wait=True)

    def _build(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(timezone="UTC")
        settings = self.ctx.settings.scheduler
        specs = [
            JobSpec(
                "core.heartbeat", lambda ctx: heartbeat(ctx, self.node), settings.heartbeat_seconds
            ),
            *self.jobs,
        ]
        for spec in specs:
            scheduler.add_job(
                _guarded(spec, self.ctx),
                "interval",
                seconds=spec.every_seconds or settings.tick_seconds,
                id=spec.id,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )
        return scheduler


def _guarded(spec: JobSpec, ctx: JobContext) -> Callable[[], None]:
    def run() -> None:
        try:
            spec.func(ctx)
        except Exception:
            logger.exception("job %s failed; it runs again at its next tick", spec.id)

    return run


def run_worker(ctx: JobContext, drainers: Sequence[Drainer], stop_event: threading.Event) -> None:
    """Call every drainer until all report no work, then sleep a little; until stopped."""
    idle = ctx.settings.worker.idle_sleep_seconds
    while not stop_event.is_set():
        handled = 0
        for drain in drainers:
            try:
                handled += drain(ctx)
            except Exception:
                logger.exception("worker step %s failed", getattr(drain, "__qualname__", drain))
        if handled == 0:
            stop_event.wait(idle)
