"""Email replies posted as raw RFC 822 messages (built with the `email` package).

Bad inputs tried: an empty body, text with no header, a JSON document, a reply to a
foreign Message-ID, a Message-ID in Campana's shape with a forged MAC, the same reply
posted twice, an automatic out-of-office answer, no key and a key of the wrong role.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_dispatcher
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings
from ema.returns import Return
from tests.channels import builders
from tests.conftest import KeyMaker

CAMPAIGN = 42


def _sent(
    session: Session, factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> list[EmailMessage]:
    """Two emails sent through the file channel, parsed back."""
    people = [builders.contact(session) for _ in range(2)]
    builders.outbox(
        session, [p.id for p in people], {"email": builders.template(session)}, campaign_id=CAMPAIGN
    )
    session.commit()
    build_dispatcher(settings).drain(JobContext(factory, settings, clock))
    files = sorted(Path(settings.file_channel_dir).glob("*.eml"))
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


def _reply(original: EmailMessage, *, in_reply_to: str | None = None, **extra: str) -> bytes:
    reply = EmailMessage()
    reply["From"] = str(original["To"])
    reply["To"] = "campana@localhost"
    reply["Subject"] = f"Re: {original['Subject']}"
    reply["Message-ID"] = make_msgid(domain="mail.example.com")
    reply["In-Reply-To"] = in_reply_to or str(original["Message-ID"])
    reply["References"] = str(original["Message-ID"])
    for name, value in extra.items():
        reply[name.replace("_", "-")] = value
    reply.set_content("Yes please, call me tomorrow.\n\n> Hi there\n")
    return reply.as_bytes(policy=email.policy.SMTP)


Poster = Callable[[bytes], tuple[int, dict[str, Any]]]


def _outbox_id(message: EmailMessage) -> int:
    """The outbox row in Campana's Message-ID `<campaign.row.mac@domain>`."""
    return int(str(message["Message-ID"]).strip("<>").split(".")[1])


@pytest.fixture
def post(client: TestClient, auth_headers: KeyMaker) -> Poster:
    headers = {**auth_headers("integration"), "Content-Type": "message/rfc822"}

    def send(raw: bytes) -> tuple[int, dict[str, Any]]:
        answer = client.post("/api/v1/inbound/replies", content=raw, headers=headers)
        return answer.status_code, answer.json()

    return send


def _replies(session: Session) -> list[tuple[int | None, bool]]:
    session.expire_all()
    rows = session.execute(
        select(Return.outbox_id, Return.is_machine)
        .where(Return.kind == "email.replied")
        .order_by(Return.id)
    )
    return [(o, m) for o, m in rows]


def test_a_reply_is_matched_once_and_counted_in_the_report(
    client: TestClient,
    auth_headers: KeyMaker,
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    post: Poster,
) -> None:
    sent = _sent(session, session_factory, settings, clock)
    send = post
    raw = _reply(sent[0])
    status, body = send(raw)
    assert status == 200, body
    matched = body["matched"]
    assert matched["campaign_id"] == CAMPAIGN
    assert matched["step_id"] == "s1"
    assert matched["duplicate"] is False
    assert matched["is_machine"] is False
    again_status, again = send(raw)
    assert again_status == 200
    assert again["matched"]["duplicate"] is True
    assert again["matched"]["return_id"] == matched["return_id"]
    assert _replies(session) == [(_outbox_id(sent[0]), False)]
    report = client.get(
        f"/api/v1/campaigns/{CAMPAIGN}/report", headers=auth_headers("planner")
    ).json()
    assert sum(row["replied"] for row in report["rows"]) == 1


def test_references_are_searched_when_in_reply_to_is_foreign(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    post: Poster,
) -> None:
    sent = _sent(session, session_factory, settings, clock)
    raw = _reply(sent[1], in_reply_to="<CAF00bar@mail.gmail.com>")
    status, body = post(raw)
    assert status == 200, body
    assert body["matched"]["outbox_id"] == _outbox_id(sent[1])
    auto = _reply(sent[0], Auto_Submitted="auto-replied")
    status, body = post(auto)
    assert status == 200
    assert body["matched"]["is_machine"] is True


def test_foreign_and_forged_message_ids_match_nothing(
    session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    clock: FrozenClock,
    post: Poster,
) -> None:
    sent = _sent(session, session_factory, settings, clock)
    ours = str(sent[0]["Message-ID"])
    forged = ours.replace(ours.split(".")[2][:10], "AAAAAAAAAA")
    for foreign in ("<CAF00bar@mail.gmail.com>", forged):
        reply = EmailMessage()
        reply["From"] = "someone@example.org"
        reply["Message-ID"] = make_msgid()
        reply["In-Reply-To"] = foreign
        reply.set_content("hello")
        status, body = post(reply.as_bytes(policy=email.policy.SMTP))
        assert (status, body) == (202, {"matched": None})
    assert _replies(session) == []


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"hello, is this a mail?", b'{"reply": true}'])
def test_what_is_not_a_mail_is_a_422(post: Poster, raw: bytes) -> None:
    status, body = post(raw)
    assert status == 422
    assert body["errors"][0]["field"] == "body"


def test_only_integrations_post_replies(client: TestClient, auth_headers: KeyMaker) -> None:
    url = "/api/v1/inbound/replies"
    assert client.post(url, content=b"From: a@b.c\r\n\r\nhi").status_code == 401
    rep = {**auth_headers("rep"), "Content-Type": "message/rfc822"}
    assert client.post(url, content=b"From: a@b.c\r\n\r\nhi", headers=rep).status_code == 403
