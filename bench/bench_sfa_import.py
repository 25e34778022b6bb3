"""CSV import of 8,000 opportunities with stage histories, then forecast and analytics.

The figure is the import throughput of `sfa.imports.import_opportunities`
(parse, validate, resolve owners and stages, insert deals and their stage-change
log, batched); the baseline is the floor for the same rows: the csv module plus
a bare Core executemany of pre-built deal rows, no validation, no history.
Also noted: the time of one forecast and one analytics read over the result.

Run: `.venv/bin/python -m bench.bench_sfa_import [--rows 8000]`
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from api import wiring
from bench.harness import note, report, timed
from core import migrate
from core.auth import SYSTEM, create_user
from core.clock import FrozenClock
from core.db import make_engine
from sfa import analytics, forecast, imports
from sfa.pipeline_models import Opportunity

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation")


def make_csv(rows: int, owners: list[str]) -> str:
    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["name", "owner_email", "amount", "currency", "expected_close", "stage_history"]
    )
    for n in range(rows):
        at = NOW - timedelta(days=rng.randint(30, 365))
        steps = []
        for stage in STAGES[: rng.randint(1, 4)]:
            steps.append(f"{stage}@{at.isoformat()}")
            at += timedelta(days=rng.randint(1, 7))
        if rng.random() < 0.5:
            steps.append(f"{rng.choice(['Won', 'Lost'])}@{at.isoformat()}")
        close = (at + timedelta(days=30)).date().isoformat()
        amount = f"{rng.randint(100, 9_000_000) / 100:.2f}"
        writer.writerow([f"Deal {n}", rng.choice(owners), amount, "EUR", close, "|".join(steps)])
    return out.getvalue()


def baseline(session: Session, text: str) -> None:
    now = NOW
    rows = [
        {
            "name": r["name"],
            "owner_id": None,
            "stage_id": 1,
            "amount_minor": int(float(r["amount"]) * 100),
            "currency": r["currency"],
            "stage_entered_at": now,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for r in csv.DictReader(io.StringIO(text))
    ]
    session.execute(insert(Opportunity), rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=8000)
    args = parser.parse_args()
    wiring.import_models()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        engine = make_engine(url)
        clock = FrozenClock(NOW)
        with Session(engine) as session:
            owners = [f"rep{i}@bench.io" for i in range(10)]
            for email in owners:
                create_user(session, name=email, email=email, clock=clock)
            session.commit()
            text = make_csv(args.rows, owners)
            base = timed(lambda: baseline(session, text))
            session.rollback()
            report_ = None

            def run() -> None:
                nonlocal report_
                report_ = imports.import_opportunities(
                    session, io.StringIO(text), actor=SYSTEM, clock=clock
                )

            took = timed(run)
            session.commit()
            assert report_ is not None
            assert report_.imported == args.rows
            fc = timed(
                lambda: forecast.forecast(
                    session,
                    actor=SYSTEM,
                    period=forecast.Period.MONTH,
                    group_by=forecast.GroupBy.REP,
                )
            )
            an = timed(lambda: analytics.sales_analytics(session, actor=SYSTEM, now=NOW))
        engine.dispose()
    note(f"{args.rows} rows: import {took:.2f} s, bare insert {base:.2f} s")
    note(f"forecast {fc * 1000:.0f} ms, analytics {an * 1000:.0f} ms over {args.rows} deals")
    report("sfa_import_opportunities", args.rows / took, "rows/s", args.rows / base)


if __name__ == "__main__":
    main()
