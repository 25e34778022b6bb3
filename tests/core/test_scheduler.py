"""The scheduler runs declared jobs, and only its leader does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from api import wiring
from core.clock import SystemClock
from core.db import make_engine, make_session_factory
from core.scheduler import (
    JobContext,
    JobSpec,
    LeaderLock,
    SchedulerNode,
    SchedulerRunner,
    run_worker,
)
from core.settings import Settings
from tests.conftest import DatabaseServer


@pytest.fixture
def fresh_engine(database_server: DatabaseServer) -> Iterator[Engine]:
    engine = make_engine(database_server.fresh())
    yield engine
    engine.dispose()


def _context(engine: Engine, tmp_path: Path) -> JobContext:
    settings = Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        data_dir=tmp_path,
        scheduler={"heartbeat_seconds": 0.1, "standby_poll_seconds": 0.1, "tick_seconds": 0.1},
        worker={"idle_sleep_seconds": 0.05},
    )
    return JobContext(make_session_factory(engine), settings, SystemClock())


def _wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_runner_runs_jobs_and_beats(fresh_engine: Engine, tmp_path: Path) -> None:
    ctx = _context(fresh_engine, tmp_path)
    runs: list[float] = []
    runner = SchedulerRunner(
        ctx, fresh_engine, [JobSpec("test.count", lambda _: runs.append(1), 0.1)]
    )
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        _wait_for(lambda: len(runs) >= 3 and runner.is_leader)
        with ctx.session_factory() as session:
            node = session.scalar(select(SchedulerNode))
            assert node is not None
            assert node.node == runner.node
    finally:
        runner.stop()
        thread.join(timeout=10)
    assert not runner.is_leader


def test_a_failing_job_does_not_stop_the_others(fresh_engine: Engine, tmp_path: Path) -> None:
    ctx = _context(fresh_engine, tmp_path)
    runs: list[int] = []

    def boom(_: JobContext) -> None:
        raise RuntimeError("boom")

    jobs = [JobSpec("test.boom", boom, 0.1), JobSpec("test.ok", lambda _: runs.append(1), 0.1)]
    runner = SchedulerRunner(ctx, fresh_engine, jobs)
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        _wait_for(lambda: len(runs) >= 3)
    finally:
        runner.stop()
        thread.join(timeout=10)


def test_worker_loops_until_stopped(fresh_engine: Engine, tmp_path: Path) -> None:
    ctx = _context(fresh_engine, tmp_path)
    stop = threading.Event()
    batches = [3, 2, 0]

    def drain(_: JobContext) -> int:
        handled = batches.pop(0) if batches else 0
        if not batches:
            stop.set()
        return handled

    run_worker(ctx, [drain], stop)
    assert batches == []


def test_job_ids_are_unique_and_namespaced() -> None:
    ids = [job.id for job in wiring.ALL_JOBS]
    assert len(ids) == len(set(ids))
    for job_id in ids:
        package, _, verb = job_id.partition(".")
        assert package in {"sfa", "ema", "channels", "callcenter", "configurator"}
        assert verb


def test_sqlite_lock_is_always_held(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    lock = LeaderLock(engine)
    assert lock.try_acquire()
    assert lock.is_held()
    assert LeaderLock(engine).try_acquire()
    engine.dispose()


@pytest.mark.postgresql
def test_advisory_lock_admits_one_leader(fresh_engine: Engine) -> None:
    first, second = LeaderLock(fresh_engine, key=4242), LeaderLock(fresh_engine, key=4242)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def _beats(engine: Engine) -> dict[str, object]:
    with engine.connect() as connection:
        rows = connection.execute(select(SchedulerNode.node, SchedulerNode.beat_at)).all()
    return dict(rows)


@pytest.mark.postgresql
def test_two_scheduler_processes_one_leads_and_the_other_takes_over(
    database_server: DatabaseServer, tmp_path: Path
) -> None:
    url = database_server.fresh()
    env = {
        **os.environ,
        "CAMPANA_DATABASE_URL": url,
        "CAMPANA_DATA_DIR": str(tmp_path),
        "CAMPANA_SCHEDULER_HEARTBEAT_SECONDS": "0.2",
        "CAMPANA_SCHEDULER_STANDBY_POLL_SECONDS": "0.2",
    }
    command = [sys.executable, "-m", "api.cli", "scheduler"]
    procs = [subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL) for _ in range(2)]
    engine = make_engine(url)
    try:
        _wait_for(lambda: len(_beats(engine)) >= 1, timeout=30)
        time.sleep(1.5)
        beats = _beats(engine)
        assert len(beats) == 1, f"two leaders: {beats}"
        (leader,) = beats
        pid = int(leader.rsplit(":", 1)[1])
        by_pid = {p.pid: p for p in procs}
        standby = next(p for p in procs if p.pid != pid)
        by_pid[pid].send_signal(signal.SIGKILL)
        by_pid[pid].wait(timeout=10)
        started = time.monotonic()
        _wait_for(lambda: any(n.endswith(f":{standby.pid}") for n in _beats(engine)), timeout=15)
        assert time.monotonic() - started < 10
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)
        engine.dispose()
