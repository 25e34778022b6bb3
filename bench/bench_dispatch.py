"""End-to-end email dispatch: outbox -> claim -> choose -> render -> SMTP -> settle.

100,000 personalised MJML emails are planned as outbox rows in a fresh SQLite
database; one worker process (spawned clean, so its peak RSS is its own)
drains them to a lean SMTP sink in another process that counts messages and
distinct Message-IDs. The figure is messages per second end to end; the
baseline replays the same messages (the first 2,000, rendered beforehand)
with plain `smtplib` on one connection to another sink. The two alternate in
rounds (dispatch a tenth, replay, ...) so machine load hits both alike. Goals: at least
1,000 messages/s, a ratio of at least 0.5, and a worker peak RSS under 250 MB.

Run: `.venv/bin/python -m bench.bench_dispatch [--count 100000] [--batch 500] [--rounds 10]`
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import smtplib
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from api.runtime import build_runtime
from bench.bench_render import MJML, SUBJECT, TEXT, fake_contact
from bench.harness import note, peak_rss_mb, report
from bench.smtp_sink import SinkProcess
from channels.mime import build_mime
from core import migrate
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.db import session_scope
from core.settings import Settings, SmtpSettings, WorkerSettings
from ema.content import TemplateDraft, create_template
from ema.outbox import OutboxMessage
from ema.rendering import Addressing, contact_context
from sfa.models import Consent, Contact

CHUNK = 10_000


def settings_for(url: str, data_dir: Path, port: int, batch: int) -> Settings:
    return Settings(
        database_url=url,
        data_dir=data_dir,
        secret_key="bench-secret",  # noqa: S106 - a throwaway key for a throwaway database
        smtp=SmtpSettings(host="127.0.0.1", port=port, sender="News <news@example.com>"),
        worker=WorkerSettings(batch_size=batch),
    )


def plan(settings: Settings, count: int) -> int:
    """Contacts with consent, one MJML template, one outbox row each; returns the template id."""
    runtime = build_runtime(settings)
    now = datetime.now(UTC)
    with session_scope(runtime.session_factory) as session:
        template, _ = create_template(
            session,
            TemplateDraft(channel="email", name="bench", subject=SUBJECT, mjml=MJML, text=TEXT),
            actor=SYSTEM,
            clock=FrozenClock(now),
        )
        for start in range(1, count + 1, CHUNK):
            ids = range(start, min(count, start + CHUNK - 1) + 1)
            session.execute(insert(Contact), [_contact(n, now) for n in ids])
            session.execute(
                insert(Consent),
                [
                    {
                        "contact_id": n,
                        "channel": "email",
                        "granted": True,
                        "source": "bench",
                        "recorded_at": now,
                    }
                    for n in ids
                ],
            )
            session.execute(
                insert(OutboxMessage),
                [
                    {
                        "campaign_id": 1,
                        "step_id": "s1",
                        "contact_id": n,
                        "content": {"email": template.id},
                        "state": "pending",
                        "due_at": now,
                        "attempts": 0,
                        "created_at": now,
                    }
                    for n in ids
                ],
            )
    raw = runtime.engine.raw_connection()  # outside a transaction: the planner's WAL
    try:  # is checkpointed here, not charged to the worker
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    runtime.dispose()
    return template.id


def _contact(n: int, now: datetime) -> dict[str, Any]:
    fake = fake_contact(n)
    return {
        "id": n,
        "first_name": fake.first_name,
        "last_name": fake.last_name,
        "email": fake.email,
        "country": fake.country,
        "language": fake.language,
        "job_title": fake.job_title,
        "time_zone": "UTC",
        "attributes": fake.attributes,
        "created_at": now,
        "updated_at": now,
    }


def current_rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_of_this_image_mb() -> float:
    """VmHWM: the peak of this process image. `ru_maxrss` would carry over the parent's peak
    from before `exec` (Linux keeps it), i.e. the planner's memory, not the worker's."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return peak_rss_mb()


def worker(settings: Settings, commands: Any, results: Any) -> None:
    """One worker process: on each command `n`, drain about n rows; reply (handled, seconds).
    At the end (command 0) reply the peak RSS."""
    from api.wiring import build_dispatcher

    runtime = build_runtime(settings)
    ctx = runtime.job_context()
    dispatcher = build_dispatcher(settings)
    while (wanted := commands.get()) > 0:
        started = time.perf_counter()
        handled = 0
        while handled < wanted and (batch := dispatcher.drain(ctx)) > 0:
            handled += batch
        results.put((handled, time.perf_counter() - started, current_rss_mb()))
    results.put(peak_rss_of_this_image_mb())


def prerender(settings: Settings, template_id: int, count: int) -> list[tuple[str, bytes]]:
    """The baseline's messages: the same contacts and template, rendered beforehand."""
    from api.wiring import build_dispatcher

    runtime = build_runtime(settings)
    renderer = build_dispatcher(settings).renderer
    with session_scope(runtime.session_factory) as session:
        compiled = renderer.compiled(session, template_id)
        contacts = session.scalars(select(Contact).order_by(Contact.id).limit(count)).all()
        rows = dict(session.execute(select(OutboxMessage.contact_id, OutboxMessage.id)).all())
        return [
            (
                c.email or "",
                build_mime(
                    renderer.render(
                        compiled,
                        Addressing(rows[c.id], 1, c.email or ""),
                        {"contact": contact_context(c), "campaign": {"id": 1, "name": ""}},
                    ),
                    settings.smtp.sender,
                ),
            )
            for c in contacts
        ]


def replay(messages: list[tuple[str, bytes]], port: int) -> float:
    """Baseline: seconds to send pre-rendered messages with plain smtplib on one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for recipient, data in messages:
            smtp.sendmail("news@example.com", [recipient], data)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--baseline-count", type=int, default=2_000)
    args = parser.parse_args()
    spawn = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        migrate.upgrade(url)
        with SinkProcess() as sink, SinkProcess() as baseline_sink:
            settings = settings_for(url, Path(tmp), sink.port, args.batch)
            started = time.perf_counter()
            template_id = plan(settings, args.count)
            note(f"planned {args.count} outbox rows in {time.perf_counter() - started:.1f} s")
            messages = prerender(settings, template_id, min(args.count, args.baseline_count))
            commands, results = spawn.Queue(), spawn.Queue()
            process = spawn.Process(target=worker, args=(settings, commands, results))
            process.start()
            handled = elapsed = replayed = replay_seconds = 0.0
            per_round = -(-args.count // args.rounds)
            rss_rounds: list[float] = []
            for _ in range(args.rounds):  # alternate, so both face the same machine load
                commands.put(per_round)
                done, seconds, now_rss = results.get()
                handled, elapsed = handled + done, elapsed + seconds
                rss_rounds.append(now_rss)
                replay_seconds += replay(messages, baseline_sink.port)
                replayed += len(messages)
            commands.put(0)
            rss = results.get()
            process.join()
            received, distinct = sink.stop()
            baseline_sink.stop()
    rate, baseline = handled / elapsed, replayed / replay_seconds
    note(f"worker: {handled:.0f} rows in {elapsed:.1f} s, peak RSS {rss:.0f} MB (goal < 250 MB)")
    note("worker RSS after each round (MB): " + " ".join(f"{r:.0f}" for r in rss_rounds))
    note(f"sink: {received} messages, {distinct} distinct Message-IDs")
    note(
        f"baseline: {len(messages)} pre-rendered messages replayed with smtplib after each of "
        f"{args.rounds} dispatch rounds: {baseline:.0f} messages/s"
    )
    note("goals: >= 1000 messages/s and ratio >= 0.5")
    report("email dispatch outbox -> SMTP", rate, "messages/s", baseline)


if __name__ == "__main__":
    main()
