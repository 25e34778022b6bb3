"""Segment count over 1,000,000 contacts: the compiled four-rule tree vs hand-written SQL.

Both queries run on the same freshly migrated database (SQLite by default,
PostgreSQL with `--url`, or when CAMPANA_TEST_DATABASE_URL is set and `--pg`
is given), with the indexes the ema migration adds. The figure is the median
time of `count_segment` (load the segment, compile its rules, run the COUNT);
the baseline is the median of the same count written by hand. Goal: ratio <= 2.

Run: `.venv/bin/python -m bench.bench_segment_count [--contacts 1000000] [--rounds 5] [--url URL]`
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api import wiring
from bench.harness import note, report, timed
from core import migrate
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.db import UTCDateTime, make_engine
from ema import segment_service
from ema.schemas import SegmentCreate
from sfa.models import Contact

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COUNTRIES = ("ES", "PT", "FR", "DE", "IT", "GB", "US", "MX")
LANGUAGES = ("es", "ca", "pt", "fr", "de", "it", "en")
RULES: dict[str, Any] = {
    "all": [
        {"field": "country", "op": "eq", "value": "ES"},
        {"field": "created_at", "op": "within_last_days", "value": 365},
        {
            "any": [
                {"field": "attributes.score", "op": "gte", "value": 50},
                {"field": "language", "op": "eq", "value": "ca"},
            ]
        },
    ]
}
HAND_WRITTEN = {
    "sqlite": "json_extract(attributes, '$.score') >= 50",
    "postgresql": "CAST(attributes ->> 'score' AS FLOAT) >= 50",
}


@contextmanager
def scratch_database(url: str | None) -> Iterator[str]:
    """A brand-new migrated database: a temp SQLite file, or a new database on `url`'s server."""
    if url is None:
        with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
            path = f"sqlite:///{Path(folder) / 'bench.db'}"
            migrate.upgrade(path)
            yield path
        return
    name = f"campana_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    target = make_url(url).set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(target)
        yield target
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def contact_rows(count: int, seed: int = 7) -> Iterator[list[dict[str, Any]]]:
    """Contacts in chunks of 50,000 (nothing holds the whole population)."""
    rng = random.Random(seed)
    chunk: list[dict[str, Any]] = []
    for i in range(count):
        created = NOW - timedelta(days=rng.randrange(730), seconds=rng.randrange(86400))
        chunk.append(
            {
                "email": f"c{i}@bench.campana.dev",
                "country": rng.choice(COUNTRIES),
                "language": rng.choice(LANGUAGES),
                "time_zone": "UTC",
                "attributes": {"score": rng.randrange(100)},
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        if len(chunk) == 50_000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load_contacts(engine: Engine, count: int) -> float:
    """Bulk-load `count` contacts with Core executemany; returns rows per second."""

    def load() -> None:
        with engine.begin() as connection:
            for chunk in contact_rows(count):
                connection.execute(insert(Contact), chunk)
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()

    return count / timed(load)


def _median_seconds(func: Any, rounds: int) -> float:
    func()  # warm the cache
    return statistics.median(timed(func) for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--url", help="a PostgreSQL server URL (a scratch database is made)")
    args = parser.parse_args()
    wiring.import_models()
    with scratch_database(args.url) as url:
        engine = make_engine(url)
        note(f"database: {engine.dialect.name}; loading {args.contacts:,} contacts")
        note(f"bulk load: {load_contacts(engine, args.contacts):,.0f} rows/s")
        clock = FrozenClock(NOW)
        with Session(engine) as session, session.begin():
            segment = segment_service.create_segment(
                session, SegmentCreate(name="bench", rules=RULES), actor=SYSTEM, clock=clock
            )
            segment_id = segment.id
        sql = text(
            "SELECT count(*) FROM sfa_contacts WHERE merged_into_id IS NULL "
            "AND deleted_at IS NULL AND country = 'ES' AND created_at >= :since "
            f"AND ({HAND_WRITTEN[engine.dialect.name]} OR language = 'ca')"
        ).bindparams(bindparam("since", NOW - timedelta(days=365), type_=UTCDateTime()))
        counts: dict[str, int] = {}

        def compiled() -> None:
            with Session(engine) as session:
                counts["compiled"] = segment_service.count_segment(session, segment_id, clock=clock)

        def by_hand() -> None:
            with engine.connect() as connection:
                counts["hand"] = int(connection.execute(sql).scalar_one())

        figure = _median_seconds(compiled, args.rounds) * 1000
        baseline = _median_seconds(by_hand, args.rounds) * 1000
        if counts["compiled"] != counts["hand"]:
            raise SystemExit(f"counts differ: {counts}")
        note(f"{counts['compiled']:,} contacts match the four rules")
        engine.dispose()
    report(f"segment_count_{engine.dialect.name}", figure, "ms", baseline)


if __name__ == "__main__":
    main()
