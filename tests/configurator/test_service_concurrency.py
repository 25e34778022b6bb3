"""Stored dialogs under concurrency, on a real database (no savepoint fixture).

Concurrent choices on one configuration must not lose updates (the row is
locked while a change is applied), and the abandonment job runs through its
JobSpec in its own transaction.

Bad inputs tried: none; the hazard here is interleaving.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api import wiring
from configurator import jobs, service
from configurator.schemas import ChoicesUpdate
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.db import make_engine, make_session_factory, session_scope
from core.scheduler import JobContext
from core.settings import Settings
from tests.builders import T0
from tests.configurator.service_builders import import_ebike, start
from tests.conftest import DatabaseServer


@pytest.fixture
def real_engine(database_server: DatabaseServer) -> Iterator[Engine]:
    engine = make_engine(database_server.fresh())
    yield engine
    engine.dispose()


@pytest.fixture
def factory(real_engine: Engine, settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(real_engine, bus=wiring.build_bus(settings))


def test_concurrent_choices_on_one_configuration_are_all_kept(
    factory: sessionmaker[Session],
) -> None:
    clock = FrozenClock(T0)
    with session_scope(factory) as session:
        import_ebike(session, clock)
        cid = start(session, clock).id
    picks = [("color", "white"), ("lock", "none"), ("gears", "derailleur_10"), ("rack", True)]
    errors: list[BaseException] = []

    def pick(name: str, value: object) -> None:
        try:
            with session_scope(factory) as session:
                data = ChoicesUpdate.model_validate({"set": {name: value}})
                service.set_choices(session, cid, data, actor=SYSTEM, clock=clock)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=pick, args=p) for p in picks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(factory) as session:
        state = service.get_configuration(session, cid)
    assert {k: c.value for k, c in state.choices.items() if c.set_by == "user"} == dict(picks)


def test_abandon_job_runs_in_its_own_transaction(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    clock = FrozenClock(T0)
    with session_scope(factory) as session:
        import_ebike(session, clock)
        cid = start(session, clock).id
    clock.advance(timedelta(hours=25))
    spec = next(j for j in wiring.ALL_JOBS if j.id == "configurator.mark_abandoned")
    assert spec is jobs.JOBS[0]
    assert spec.func(JobContext(factory, settings, clock)) == 1
    with session_scope(factory) as session:
        assert service.get_configuration(session, cid).status == "abandoned"
