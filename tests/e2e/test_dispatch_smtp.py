"""Dispatch to a real SMTP server (aiosmtpd): STARTTLS and auth, 421/451 then recovery,
refused recipients, consent withdrawn between planning and sending.

Bad inputs tried: a recipient the server refuses (550), a server that answers
451 and 421 before recovering, a contact whose consent was withdrawn after the
outbox row was written, wrong SMTP credentials.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_channels
from channels.base import Outcome
from core.clock import FrozenClock
from core.db import make_engine, make_session_factory, session_scope
from core.scheduler import JobContext
from core.settings import Settings, SmtpSettings
from ema.dispatch import Dispatcher
from ema.outbox import OutboxMessage
from ema.rendering import Renderer
from ema.tokens import Signer
from sfa.models import Consent
from tests.builders import T0
from tests.channels import builders
from tests.conftest import DatabaseServer
from tests.e2e.smtp_servers import Authenticator, Recorder, self_signed, start


@pytest.fixture
def factory(database_server: DatabaseServer) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_server.fresh())
    yield make_session_factory(engine)
    engine.dispose()


def _settings(tmp_path: Path, port: int, **smtp: object) -> Settings:
    return Settings(
        database_url="sqlite://",
        data_dir=tmp_path,
        secret_key="e2e-key",
        smtp=SmtpSettings(host="127.0.0.1", port=port, timeout_seconds=10, **smtp),  # type: ignore[arg-type]
    )


def _drain(factory: sessionmaker[Session], settings: Settings, clock: FrozenClock) -> int:
    renderer = Renderer(Signer(settings.signing_key()), settings.base_url, "example.com")
    dispatcher = Dispatcher(build_channels(settings), renderer)
    try:
        return dispatcher.drain(JobContext(factory, settings, clock))
    finally:
        dispatcher.channels.close()


def _plan(factory: sessionmaker[Session], count: int, **contact: object) -> list[int]:
    with session_scope(factory) as session:
        people = [builders.contact(session, **contact) for _ in range(count)]  # type: ignore[arg-type]
        return builders.outbox(
            session, [p.id for p in people], {"email": builders.template(session)}
        )


def _states(factory: sessionmaker[Session]) -> dict[int, tuple[str, str | None]]:
    with factory() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.state, OutboxMessage.reason))
        return {oid: (state, reason) for oid, state, reason in rows}


def _tls_auth_server(
    handler: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Controller:
    """An SMTP server that requires STARTTLS (self-signed, trusted here) and campana/s3cret."""
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return start(
        handler,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=Authenticator("campana", "s3cret"),
    )


def test_starttls_and_auth_then_every_message_once_with_its_headers(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = Recorder()
    server = _tls_auth_server(handler, tmp_path, monkeypatch)
    try:
        ids = _plan(factory, 5)
        settings = _settings(
            tmp_path, server.port, starttls=True, username="campana", password="s3cret"
        )
        assert _drain(factory, settings, FrozenClock(T0)) == 5
    finally:
        server.stop()
    counts = handler.counts()
    assert len(counts) == 5
    assert set(counts.values()) == {1}
    assert {s for s, _ in _states(factory).values()} == {"sent"}
    content = handler.received[0][2]
    assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in content
    assert b"List-Unsubscribe: <http://127.0.0.1:8000/t/u/" in content
    assert len(ids) == 5


def test_wrong_credentials_leave_messages_pending_for_a_retry(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = Recorder()
    server = _tls_auth_server(handler, tmp_path, monkeypatch)
    try:
        _plan(factory, 2)
        settings = _settings(
            tmp_path, server.port, starttls=True, username="campana", password="bad"
        )
        _drain(factory, settings, FrozenClock(T0))
    finally:
        server.stop()
    assert not handler.received
    states = _states(factory).values()
    assert {s for s, _ in states} == {"pending"}
    assert all("smtp connect" in (r or "") for _, r in states)


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_server_answering_451_and_421_then_recovering_gets_each_message_once(
    factory: sessionmaker[Session], tmp_path: Path, pipelining: bool
) -> None:
    handler = Recorder(
        script=["451 4.7.1 try again later", "421 4.3.2 closing", "451 4.3.0 busy"],
        pipelining=pipelining,
    )
    server = start(handler)
    clock = FrozenClock(T0)
    try:
        ids = _plan(factory, 6)
        settings = _settings(tmp_path, server.port)
        _drain(factory, settings, clock)
        states = _states(factory)
        retried = [oid for oid, (state, _) in states.items() if state == "pending"]
        assert len(retried) == 3
        assert all((states[oid][1] or "").startswith("retry 1: smtp 4") for oid in retried)
        assert _drain(factory, settings, clock) == 0  # backoff: not due yet
        clock.advance(timedelta(seconds=61))
        assert _drain(factory, settings, clock) == 3
    finally:
        server.stop()
    counts = handler.counts()
    assert len(counts) == len(ids)
    assert set(counts.values()) == {1}
    assert {s for s, _ in _states(factory).values()} == {"sent"}


def test_a_refused_recipient_fails_permanently_with_the_servers_reason(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    handler = Recorder()
    server = start(handler)
    try:
        ids = _plan(factory, 3)
        with factory() as session:
            refused = session.scalar(
                select(OutboxMessage.contact_id).where(OutboxMessage.id == ids[1])
            )
        handler.refuse_rcpt = {f"ana{refused - 0}@example.com"} if False else set()
        with factory() as session:
            from sfa.models import Contact

            address = session.scalar(select(Contact.email).where(Contact.id == refused))
        handler.refuse_rcpt = {address or ""}
        _drain(factory, _settings(tmp_path, server.port), FrozenClock(T0))
    finally:
        server.stop()
    states = _states(factory)
    assert states[ids[1]][0] == "failed"
    assert "550" in (states[ids[1]][1] or "")
    assert states[ids[0]][0] == states[ids[2]][0] == "sent"
    assert len(handler.received) == 2


def test_consent_withdrawn_between_planning_and_sending_sends_nothing(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    handler = Recorder()
    server = start(handler)
    try:
        ids = _plan(factory, 3)
        with session_scope(factory) as session:
            for consent in session.scalars(select(Consent)):
                consent.granted = False
        _drain(factory, _settings(tmp_path, server.port), FrozenClock(T0))
    finally:
        server.stop()
    assert not handler.received
    assert _states(factory) == dict.fromkeys(ids, ("skipped", "email: consent withdrawn"))
    assert Outcome.SENT.value == "sent"
