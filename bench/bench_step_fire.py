"""Firing a send step for 100,000 enrolled contacts: outbox rows written per second.

A fresh migrated database gets the contacts (Core executemany), a segment of
all of them and a campaign `send -> wait 1 day -> send`, launched (one
INSERT ... SELECT enrols everyone). The figure is contacts per second through
one `advance_journeys` tick: claim in batches, bulk-insert outbox rows, park
contacts at the wait, one transaction per batch. The baseline is the bare
single-statement `INSERT INTO ema_outbox ... SELECT FROM ema_enrolments` of
the same rows (no claiming, no moving on). Goal: >= 20,000 contacts/s on
SQLite; with `--contacts 1000000` the peak RSS must stay under 300 MB.

Run: `.venv/bin/python -m bench.bench_step_fire [--contacts 100000] [--batch 2000] [--url URL]`
"""

from __future__ import annotations

import argparse
from datetime import datetime

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from api import wiring
from bench.bench_segment_count import NOW, load_contacts, scratch_database
from bench.harness import note, peak_rss_mb, report, timed
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.db import make_engine, make_session_factory
from ema import content, segment_service, service
from ema.execution import advance_journeys
from ema.outbox import OutboxMessage
from ema.schemas import CampaignCreate, SegmentCreate


def _campaign(engine: Engine, clock: FrozenClock) -> int:
    with Session(engine) as session, session.begin():
        segment = segment_service.create_segment(
            session,
            SegmentCreate(name="all", rules={"field": "email", "op": "is_null", "value": False}),
            actor=SYSTEM,
            clock=clock,
        )
        template, _ = content.create_template(
            session,
            content.TemplateDraft(channel="email", name="b", subject="Hi", html="<p>Hi</p>"),
            actor=SYSTEM,
            clock=clock,
        )
        journey = {
            "start": "s1",
            "steps": [
                {"id": "s1", "type": "send", "content": {"email": template.id}, "next": "w1"},
                {"id": "w1", "type": "wait", "duration": "P1D", "next": "s2"},
                {"id": "s2", "type": "send", "content": {"email": template.id}},
            ],
        }
        data = CampaignCreate(name="bench", segment_id=segment.id, journey=journey)
        campaign = service.create_campaign(session, data, actor=SYSTEM, clock=clock)
        service.launch_campaign(session, campaign.id, actor=SYSTEM, clock=clock)
        return campaign.id


def _baseline(engine: Engine, campaign_id: int, now: datetime) -> float:
    """Seconds for the one-statement INSERT ... SELECT of the same rows (another step id)."""
    sql = text(
        "INSERT INTO ema_outbox (campaign_id, step_id, contact_id, variant, content, state, "
        "due_at, attempts, created_at) SELECT campaign_id, 'baseline', contact_id, variant, "
        "'{\"email\": 1}', 'pending', :now, 0, :now FROM ema_enrolments "
        "WHERE campaign_id = :cid"
    )
    stamp = now.isoformat() if engine.dialect.name == "sqlite" else now

    def run() -> None:
        with engine.begin() as connection:
            connection.execute(sql, {"cid": campaign_id, "now": stamp})

    return timed(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--url", help="a PostgreSQL server URL (a scratch database is made)")
    args = parser.parse_args()
    wiring.import_models()
    with scratch_database(args.url) as url:
        engine = make_engine(url)
        note(f"database: {engine.dialect.name}; {args.contacts:,} contacts")
        note(f"bulk load: {load_contacts(engine, args.contacts):,.0f} rows/s")
        clock = FrozenClock(NOW)
        campaign_id = _campaign(engine, clock)
        factory = make_session_factory(engine)
        rss_before = peak_rss_mb()
        handled = 0

        def fire() -> None:
            nonlocal handled
            handled = advance_journeys(factory, now=NOW, batch_size=args.batch)

        seconds = timed(fire)
        with engine.connect() as connection:
            written = connection.scalar(
                select(func.count()).where(OutboxMessage.campaign_id == campaign_id)
            )
        if handled != args.contacts or written != args.contacts:
            raise SystemExit(f"handled {handled}, wrote {written}, expected {args.contacts}")
        baseline = args.contacts / _baseline(engine, campaign_id, NOW)
        note(f"peak RSS {peak_rss_mb():.0f} MB (before firing: {rss_before:.0f} MB)")
        engine.dispose()
    report(f"step_fire_{engine.dialect.name}", args.contacts / seconds, "contacts/s", baseline)


if __name__ == "__main__":
    main()
