"""A `campana worker` killed with SIGKILL in the middle of a batch, then restarted:
every message reaches the SMTP server exactly once, counted by Message-ID.

The server holds its answer to the 30th message of a 50-message batch while
the test kills the worker, so that message is never acknowledged; the rows
sent before it were settled one by one, the rest stay claimed until the
claim expires, and the second worker sends them with the same Message-IDs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db import make_engine, make_session_factory, session_scope
from ema.outbox import OutboxMessage
from tests.channels import builders
from tests.conftest import DatabaseServer
from tests.e2e.smtp_servers import Recorder, start

ROOT = Path(__file__).resolve().parents[2]
COUNT = 120


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=handle,
        )


def _wait(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_a_worker_killed_mid_batch_then_restarted_delivers_every_message_once(
    database_server: DatabaseServer, tmp_path: Path
) -> None:
    url = database_server.fresh()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        people = [builders.contact(session) for _ in range(COUNT)]
        ids = builders.outbox(
            session, [p.id for p in people], {"email": builders.template(session)}
        )
    handler = Recorder(hold_at=30)
    server = start(handler)
    env = {
        "CAMPANA_DATABASE_URL": url,
        "CAMPANA_DATA_DIR": str(tmp_path),
        "CAMPANA_SECRET_KEY": "crash-test-key",
        "CAMPANA_SMTP_HOST": "127.0.0.1",
        "CAMPANA_SMTP_PORT": str(server.port),
        "CAMPANA_WORKER_BATCH_SIZE": "50",
        "CAMPANA_WORKER_CLAIM_TTL_SECONDS": "2",
        "CAMPANA_WORKER_IDLE_SLEEP_SECONDS": "0.2",
        "CAMPANA_LOG_LEVEL": "WARNING",
    }
    first = _worker(env, tmp_path / "worker1.log")
    second = None
    try:
        assert handler.held.wait(60), "the first worker never reached the 30th message"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        handler.release.set()
        assert len(handler.received) == 29
        with factory() as session:
            claimed = session.scalar(select(func.count()).where(OutboxMessage.state == "claimed"))
        assert claimed == 21  # the rest of the killed worker's batch
        second = _worker(env, tmp_path / "worker2.log")
        assert _wait(lambda: len(handler.received) >= COUNT, 60), handler.counts()
        time.sleep(0.5)  # a duplicate would arrive now
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
        server.stop()
    counts = handler.counts()
    assert len(counts) == COUNT
    assert set(counts.values()) == {1}
    with factory() as session:
        states = set(session.scalars(select(OutboxMessage.state).where(OutboxMessage.id.in_(ids))))
    assert states == {"sent"}
    engine.dispose()


@pytest.mark.postgresql
def test_three_workers_share_the_outbox_on_postgresql_without_sending_twice(
    database_server: DatabaseServer, tmp_path: Path
) -> None:
    url = database_server.fresh()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        people = [builders.contact(session) for _ in range(300)]
        builders.outbox(session, [p.id for p in people], {"email": builders.template(session)})
    handler = Recorder()
    server = start(handler)
    env = {
        "CAMPANA_DATABASE_URL": url,
        "CAMPANA_DATA_DIR": str(tmp_path),
        "CAMPANA_SECRET_KEY": "crash-test-key",
        "CAMPANA_SMTP_HOST": "127.0.0.1",
        "CAMPANA_SMTP_PORT": str(server.port),
        "CAMPANA_WORKER_BATCH_SIZE": "20",
        "CAMPANA_WORKER_IDLE_SLEEP_SECONDS": "0.2",
        "CAMPANA_LOG_LEVEL": "WARNING",
    }
    workers = [_worker(env, tmp_path / f"worker{n}.log") for n in range(3)]
    try:
        assert _wait(lambda: len(handler.received) >= 300, 90), len(handler.received)
        time.sleep(0.5)
    finally:
        for process in workers:
            process.terminate()
            process.wait(10)
        server.stop()
    counts = handler.counts()
    assert len(counts) == 300
    assert set(counts.values()) == {1}
    with factory() as session:
        claimers = set(session.scalars(select(OutboxMessage.claimed_by)))
    assert len(claimers) > 1  # the work was really shared
    engine.dispose()
