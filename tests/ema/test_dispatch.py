"""Dispatch in-process through the file channel: choice, render, settle, retries."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_channels, build_dispatcher
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings
from ema.dispatch import Dispatcher
from ema.outbox import OutboxMessage
from sfa.models import Consent
from tests.builders import T0
from tests.channels import builders
from tests.conftest import DatabaseServer


def _ctx(
    session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> JobContext:
    return JobContext(session_factory, settings, clock)


def _rows(session: Session, ids: list[int]) -> dict[int, OutboxMessage]:
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return {r.id: r for r in rows}


def test_email_rows_become_eml_files_with_tracking_and_one_click_unsubscribe(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    people = [builders.contact(session) for _ in range(3)]
    tid = builders.template(session)
    ids = builders.outbox(session, [p.id for p in people], {"email": tid})
    session.commit()

    handled = build_dispatcher(settings).drain(_ctx(session_factory, settings, clock))

    assert handled == 3
    rows = _rows(session, ids)
    assert {r.state for r in rows.values()} == {"sent"}
    assert {r.channel for r in rows.values()} == {"email"}
    files = sorted(Path(settings.file_channel_dir).glob("*.eml"))
    assert len(files) == 3
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/t/u/")
    assert parsed["Subject"].startswith("Hi Ana")
    html = parsed.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "/t/o/" in content
    assert "/t/c/" in content
    assert "https://example.com/offer" not in content  # links go through the signed redirect
    raw = files[0].read_bytes()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_nothing_is_due_nothing_is_handled(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    person = builders.contact(session)
    ids = builders.outbox(
        session,
        [person.id],
        {"email": builders.template(session)},
        due_at=clock.now() + timedelta(hours=1),
    )
    session.commit()
    assert build_dispatcher(settings).drain(_ctx(session_factory, settings, clock)) == 0
    assert _rows(session, ids)[ids[0]].state == "pending"


def test_consent_withdrawn_after_planning_skips_with_the_reason(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    person = builders.contact(session)
    ids = builders.outbox(session, [person.id], {"email": builders.template(session)})
    consent = session.scalars(select(Consent).where(Consent.contact_id == person.id)).one()
    consent.granted = False  # withdrawn between planning and sending
    session.commit()

    build_dispatcher(settings).drain(_ctx(session_factory, settings, clock))

    row = _rows(session, ids)[ids[0]]
    assert row.state == "skipped"
    assert row.reason == "email: consent withdrawn"
    assert not list(Path(settings.file_channel_dir).glob("*.eml"))


def test_preferred_channel_without_consent_falls_back_and_unreachable_is_skipped(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    prefers_sms = builders.contact(session, preferred_channel="sms", consents=("email",))
    no_address = builders.contact(session, email=None, consents=("email",))
    ids = builders.outbox(
        session, [prefers_sms.id, no_address.id], {"email": builders.template(session)}
    )
    session.commit()

    build_dispatcher(settings).drain(_ctx(session_factory, settings, clock))

    rows = _rows(session, ids)
    assert rows[ids[0]].state == "sent"
    assert rows[ids[1]].state == "skipped"
    assert rows[ids[1]].reason == "email: not reachable (no valid address)"


def test_a_broken_template_fails_permanently_and_a_missing_one_too(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    person = builders.contact(session)
    other = builders.contact(session)
    bad = builders.template(session, subject="{{ contact.first_name.__class__.__mro__ }}")
    ids = builders.outbox(session, [person.id], {"email": bad})
    ids += builders.outbox(session, [other.id], {"email": 999_999}, step_id="s2")
    session.commit()

    build_dispatcher(settings).drain(_ctx(session_factory, settings, clock))

    rows = _rows(session, ids)
    assert rows[ids[0]].state == "failed"
    assert "unsafe" in (rows[ids[0]].reason or "") or "render" in (rows[ids[0]].reason or "")
    assert rows[ids[1]].state == "failed"
    assert "999999" in (rows[ids[1]].reason or "")


def test_a_claim_of_a_dead_worker_expires_and_the_row_goes_out_once(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    from ema.dispatch import claim

    person = builders.contact(session)
    ids = builders.outbox(session, [person.id], {"email": builders.template(session)})
    claim(session, "dead-worker", clock.now(), 10, 300)
    session.commit()
    dispatcher = Dispatcher(build_channels(settings), build_dispatcher(settings).renderer)

    assert dispatcher.drain(_ctx(session_factory, settings, clock)) == 0  # still claimed
    clock.advance(timedelta(seconds=301))
    assert dispatcher.drain(_ctx(session_factory, settings, clock)) == 1
    assert _rows(session, ids)[ids[0]].state == "sent"


def test_the_fast_settle_stores_times_as_sqlalchemy_does(database_server: DatabaseServer) -> None:
    """The worker's raw settle and the ORM must agree on the stored form (SQLite compares text)."""
    from core.db import make_engine, make_session_factory
    from ema.settle import settler

    engine = make_engine(database_server.fresh())
    factory = make_session_factory(engine)
    with factory() as session:
        person = builders.contact(session)
        ids = builders.outbox(session, [person.id], {"email": 1}, step_id="a")
        ids += builders.outbox(session, [person.id], {"email": 1}, step_id="b")
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(state="claimed", claimed_by="node-1")
        )
        session.commit()
        with settler(session, "node-1") as settle:
            settle(
                {"oid": ids[0], "state": "sent", "channel": "email", "reason": None, "sent_at": T0}
            )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[-1])
            .values(sent_at=T0, state="sent")
        )
        session.commit()
        stored = (
            session.execute(
                text("SELECT sent_at FROM ema_outbox WHERE id IN (:a, :b) ORDER BY id"),
                {"a": ids[0], "b": ids[-1]},
            )
            .scalars()
            .all()
        )
        assert stored[0] == stored[1]
        later = session.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at >= T0)).all()
        assert sorted(later) == [ids[0], ids[-1]]
    engine.dispose()


def test_a_worker_that_lost_its_claim_settles_nothing(
    session: Session, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    """A slow worker whose claim expired and went to another may not overwrite its result."""
    from ema.settle import settler

    person = builders.contact(session)
    (oid,) = builders.outbox(session, [person.id], {"email": 1})
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == oid)
        .values(state="claimed", claimed_by="fast-worker")
    )
    session.commit()
    with settler(session, "slow-worker") as settle:
        settle({"oid": oid, "state": "failed", "channel": "email", "reason": "late"})
    row = _rows(session, [oid])[oid]
    assert (row.state, row.claimed_by, row.reason) == ("claimed", "fast-worker", None)


def test_a_message_that_kills_its_worker_every_time_gives_up(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    """Taking over an expired claim counts as an attempt; at max_attempts the row fails."""
    person = builders.contact(session)
    tid = builders.template(session)
    (oid,) = builders.outbox(session, [person.id], {"email": tid})
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == oid)
        .values(
            state="claimed",
            claimed_by="dead",
            claimed_until=clock.now() - timedelta(seconds=1),
            attempts=settings.worker.max_attempts - 1,
        )
    )
    session.commit()
    assert build_dispatcher(settings).drain(_ctx(session_factory, settings, clock)) == 1
    row = _rows(session, [oid])[oid]
    assert row.state == "failed"
    assert row.reason is not None
    assert row.reason.startswith(f"gave up after {settings.worker.max_attempts} attempts")


def test_a_batch_stops_sending_once_its_claims_are_at_risk() -> None:
    """Past the claim budget no further message leaves (the rest expire and are retaken)."""
    import time

    from channels.base import Message
    from ema.dispatch import _until

    messages = iter([Message(outbox_id=1, channel="email", to="a@x.io", message_id="<1@x>")])
    assert list(_until(time.monotonic() - 1, messages)) == []
