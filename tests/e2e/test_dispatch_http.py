"""SMS gateway and webhooks against real HTTP servers (http.server in a thread).

Bad inputs tried: a gateway answering 500 then recovering, a gateway refusing
a number (400), a webhook target on a loopback address while private
addresses are not allowed, a webhook answering 503 twice before 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_channels
from core.clock import FrozenClock
from core.db import make_engine, make_session_factory, session_scope
from core.scheduler import JobContext
from core.settings import Settings, SmsSettings, WebhookSettings
from ema.dispatch import Dispatcher
from ema.outbox import OutboxMessage
from ema.rendering import Renderer
from ema.tokens import Signer
from tests.builders import T0
from tests.channels import builders
from tests.conftest import DatabaseServer


class Recording(ThreadingHTTPServer):
    """Records requests; answers with the next scripted status (200 when the script is empty)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.script: list[int] = []
        self.refuse: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class _Handler(BaseHTTPRequestHandler):
    server: Recording

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        status = self.server.script.pop(0) if self.server.script else 200
        if json.loads(body).get("to") in self.server.refuse:
            status = 400
        if status == 200:
            self.server.requests.append((dict(self.headers), body))
        payload = json.dumps({"id": f"gw-{len(self.server.requests)}"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def http_server() -> Iterator[Recording]:
    server = Recording()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def factory(database_server: DatabaseServer) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_server.fresh())
    yield make_session_factory(engine)
    engine.dispose()


def _drain(factory: sessionmaker[Session], settings: Settings, clock: FrozenClock) -> int:
    renderer = Renderer(Signer(settings.signing_key()), settings.base_url, "example.com")
    dispatcher = Dispatcher(build_channels(settings), renderer)
    try:
        return dispatcher.drain(JobContext(factory, settings, clock))
    finally:
        dispatcher.channels.close()


def _states(factory: sessionmaker[Session]) -> dict[int, tuple[str, str | None]]:
    with factory() as session:
        rows = session.execute(select(OutboxMessage.id, OutboxMessage.state, OutboxMessage.reason))
        return {oid: (state, reason) for oid, state, reason in rows}


def test_sms_goes_to_the_gateway_with_its_token_retries_5xx_and_fails_on_4xx(
    factory: sessionmaker[Session], http_server: Recording, tmp_path: Path
) -> None:
    settings = Settings(
        database_url="sqlite://",
        data_dir=tmp_path,
        secret_key="k",
        sms=SmsSettings(gateway_url=http_server.url, gateway_token=SecretStr("gw-secret")),
    )
    with session_scope(factory) as session:
        people = [
            builders.contact(session, consents=("sms",), preferred_channel="sms") for _ in range(3)
        ]
        ids = builders.outbox(
            session, [p.id for p in people], {"sms": builders.template(session, "sms")}
        )
        refused = people[2].phone or ""
    http_server.script = [500]
    http_server.refuse = {refused}
    clock = FrozenClock(T0)
    _drain(factory, settings, clock)
    states = _states(factory)
    assert states[ids[0]][0] == "pending"
    assert (states[ids[0]][1] or "").startswith("retry 1: http 500")
    assert states[ids[1]][0] == "sent"
    assert states[ids[2]][0] == "failed"
    assert "http 400" in (states[ids[2]][1] or "")
    clock.advance(timedelta(minutes=2))
    _drain(factory, settings, clock)
    assert _states(factory)[ids[0]][0] == "sent"
    headers, body = http_server.requests[0]
    assert headers["Authorization"] == "Bearer gw-secret"
    payload = json.loads(body)
    assert payload["text"].startswith("Hi Ana")
    assert (payload["encoding"], payload["segments"]) == ("gsm7", 1)
    assert len(http_server.requests) == 2


def _webhook_plan(factory: sessionmaker[Session], url: str) -> list[int]:
    with session_scope(factory) as session:
        person = builders.contact(session, consents=())
        template = builders.template(
            session, "webhook", body="{{ contact.email }}", data={"url": url}
        )
        return builders.outbox(session, [person.id], {"webhook": template})


def test_webhooks_are_signed_and_retried_with_backoff(
    factory: sessionmaker[Session], http_server: Recording, tmp_path: Path
) -> None:
    settings = Settings(
        database_url="sqlite://",
        data_dir=tmp_path,
        secret_key="k",
        webhook=WebhookSettings(allow_private_addresses=True),
    )
    ids = _webhook_plan(factory, http_server.url)
    http_server.script = [503, 503]
    clock = FrozenClock(T0)
    _drain(factory, settings, clock)
    assert _states(factory)[ids[0]][0] == "pending"  # one attempt, then the worker's backoff
    clock.advance(timedelta(seconds=61))
    _drain(factory, settings, clock)
    assert _states(factory)[ids[0]][0] == "pending"
    clock.advance(timedelta(seconds=121))
    _drain(factory, settings, clock)
    assert _states(factory)[ids[0]][0] == "sent"
    assert http_server.script == []  # both 503s were answered, one per drain
    headers, body = http_server.requests[-1]
    expected = hmac.new(
        settings.signing_key(),
        headers["X-Campana-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Campana-Signature"] == f"sha256={expected}"
    assert json.loads(body)["contact"]["email"].endswith("@example.com")


def test_a_webhook_to_a_loopback_address_is_refused_unless_allowed(
    factory: sessionmaker[Session], http_server: Recording, tmp_path: Path
) -> None:
    settings = Settings(database_url="sqlite://", data_dir=tmp_path, secret_key="k")
    ids = _webhook_plan(factory, http_server.url)
    _drain(factory, settings, FrozenClock(T0))
    state, reason = _states(factory)[ids[0]]
    assert state == "failed"
    assert "non-public address (127.0.0.1): refused" in (reason or "")
    assert not http_server.requests
