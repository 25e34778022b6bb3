"""A journey executor process killed in the middle of a step loses nothing and repeats nothing.

A real child process runs the `ema.advance_journeys` tick against a fresh
migrated database; its task creator blocks forever in the second batch, after
the first batch committed. The parent kills it with SIGKILL, runs the tick
again, and finds exactly one outbox row and one SFA task per contact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api import wiring
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.db import make_engine, make_session_factory, session_scope
from ema import service
from ema.execution import advance_journeys
from ema.jobs import create_sfa_tasks
from ema.outbox import OutboxMessage
from sfa.models import Activity
from tests.builders import T0
from tests.conftest import DatabaseServer
from tests.ema import builders

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys, time
from api import wiring
from core.db import make_engine, make_session_factory
from ema.execution import advance_journeys
from ema.jobs import create_sfa_tasks
from tests.builders import T0

wiring.import_models()
calls = []

def creator(*args):
    calls.append(1)
    if len(calls) == 2:
        print("stuck", flush=True)
        time.sleep(600)
    create_sfa_tasks(*args)

factory = make_session_factory(make_engine(sys.argv[1]))
advance_journeys(factory, now=T0, batch_size=4, task_creator=creator)
"""


def _prepare(url: str) -> int:
    wiring.import_models()
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = FrozenClock(T0)
    try:
        return _build(factory, clock)
    finally:
        engine.dispose()


def _build(factory: sessionmaker[Session], clock: FrozenClock) -> int:
    with session_scope(factory) as session:
        builders.contacts(session, clock, 10, country="ES")
        tpl = builders.templates(session, clock)
        segment = builders.segment(session, clock, {"field": "country", "op": "eq", "value": "ES"})
        journey = builders.journey(
            builders.send("s1", {"email": tpl["email"]}, "t1"),
            {"id": "t1", "type": "task", "subject": "Call back"},
        )
        campaign = builders.campaign(session, clock, segment.id, journey)
        service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
        return campaign.id


def test_killed_mid_step_then_restarted(database_server: DatabaseServer) -> None:
    url = database_server.fresh()
    campaign_id = _prepare(url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "stuck"
    engine = make_engine(url)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    factory = make_session_factory(engine)
    with Session(engine) as session:
        partial = session.scalar(
            select(func.count()).where(OutboxMessage.campaign_id == campaign_id)
        )
    assert partial == 4  # the first batch committed; the second died with the process
    advance_journeys(factory, now=T0, batch_size=4, task_creator=create_sfa_tasks)
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxMessage.contact_id, func.count())
            .where(OutboxMessage.campaign_id == campaign_id)
            .group_by(OutboxMessage.contact_id)
        ).all()
        tasks = session.scalar(
            select(func.count())
            .select_from(Activity)
            .where(Activity.origin.like(f"campaign:{campaign_id}:%"))
        )
    assert len(rows) == 10
    assert {n for _, n in rows} == {1}
    assert tasks == 10
    engine.dispose()
