"""A real SMTP server for end-to-end tests: aiosmtpd with a recording, scriptable handler.

The handler records every accepted message by Message-ID; `script` lists
replies to give to the next DATA commands instead of 250 (421/451/550...);
`pipelining` offers PIPELINING (on by default);
`hold_at` makes the server stop before answering the n-th message until the
test releases it (the client is killed meanwhile, so that message is never
acknowledged and not counted as delivered).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.e2e.server import free_port

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.MULTILINE | re.IGNORECASE)


@dataclass
class Recorder:
    """aiosmtpd handler: accepts, refuses or holds messages as scripted."""

    script: list[str] = field(default_factory=list)
    refuse_rcpt: set[str] = field(default_factory=set)
    hold_at: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    received: list[tuple[str, str, bytes]] = field(default_factory=list)
    seen: int = 0
    pipelining: bool = True
    """Offer PIPELINING (aiosmtpd reads pipelined commands but does not announce it)."""

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.seen += 1
        if self.hold_at is not None and self.seen == self.hold_at:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
            return "451 4.3.0 the client went away"
        if self.script:
            return self.script.pop(0)
        content: bytes = envelope.original_content or envelope.content
        found = _MESSAGE_ID.search(content)
        message_id = found.group(1).decode() if found else ""
        self.received.append((message_id, envelope.rcpt_tos[0], content))
        return "250 2.0.0 queued"

    def counts(self) -> Counter[str]:
        return Counter(message_id for message_id, _, _ in self.received)


class Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.user,
            self.password,
        )
        return AuthResult(success=ok, handled=False)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made with the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def start(handler: Recorder, **options: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller
