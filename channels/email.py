"""The `email` channel: SMTP through a pool of reused connections.

Connections are opened once (EHLO, STARTTLS, AUTH) and kept for many
messages (`channels.smtp`). Each message is yielded as soon as the server
has answered its final dot, so the dispatcher records it before the next
body leaves. 4xx and lost connections are transient, 5xx permanent.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from email.utils import parseaddr

from channels.base import ChannelError, Message, SendResult
from channels.mime import build_mime
from channels.smtp import SmtpConnection
from core.settings import SmtpSettings

MAX_MESSAGES_PER_CONNECTION = 10_000


class SmtpPool:
    """Up to `pool_size` open connections, handed out one caller at a time."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._idle: deque[SmtpConnection] = deque()
        self._slots = threading.BoundedSemaphore(settings.pool_size)
        self._lock = threading.Lock()

    def acquire(self) -> SmtpConnection:
        self._slots.acquire()
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return SmtpConnection(self._settings)
        except BaseException:
            self._slots.release()
            raise

    def release(self, connection: SmtpConnection | None) -> None:
        """Give back a healthy connection (None: it broke and was dropped)."""
        if connection is not None:
            if connection.sent >= MAX_MESSAGES_PER_CONNECTION:
                connection.close()
            else:
                with self._lock:
                    self._idle.append(connection)
        self._slots.release()

    def close(self) -> None:
        with self._lock:
            while self._idle:
                self._idle.pop().close()


class SmtpChannel:
    """`email` over SMTP: Message-ID, List-Unsubscribe headers come with the message."""

    name = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        self._sender_header = settings.sender
        self._envelope_from = parseaddr(settings.sender)[1] or "campana@localhost"
        self.pool = SmtpPool(settings)

    def send_batch(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        """While the server digests one message, the next is rendered (`messages` may be
        lazy) and its envelope written; the previous answer is read and yielded before
        the next body goes out."""
        pending = iter(messages)
        connection: SmtpConnection | None = None
        waiting: Message | None = None  # sent up to the dot, answer not read yet
        try:
            for message in pending:
                data = build_mime(message, self._sender_header)
                envelope_sent = False
                if waiting is not None and connection is not None:
                    if connection.pipelining:
                        envelope_sent = self._envelope(connection, message)
                    yield self._answer(connection, waiting)
                    waiting = None
                    connection = self._keep(connection)
                    envelope_sent = envelope_sent and connection is not None
                if connection is None:
                    try:
                        connection = self.pool.acquire()
                    except ChannelError as exc:  # server unreachable: the rest waits too
                        yield exc.result(message.outbox_id)
                        yield from (exc.result(m.outbox_id) for m in pending)
                        return
                try:
                    connection.begin(
                        self._envelope_from, message.to, data, envelope_sent=envelope_sent
                    )
                    waiting = message
                except ChannelError as exc:
                    yield exc.result(message.outbox_id)
                    connection = self._keep(connection)
            if waiting is not None and connection is not None:
                yield self._answer(connection, waiting)
                connection = self._keep(connection)
        finally:
            if connection is not None:
                self.pool.release(connection)

    def _envelope(self, connection: SmtpConnection, message: Message) -> bool:
        try:
            connection.envelope(self._envelope_from, message.to)
        except ChannelError:
            return False
        return True

    def _answer(self, connection: SmtpConnection, message: Message) -> SendResult:
        try:
            connection.end()
        except ChannelError as exc:
            return exc.result(message.outbox_id)
        return SendResult.sent(message.outbox_id, message.message_id)

    def _keep(self, connection: SmtpConnection) -> SmtpConnection | None:
        """The connection if still usable; a broken one is closed and its slot freed."""
        if not connection.broken:
            return connection
        connection.close()
        self.pool.release(None)
        return None

    def close(self) -> None:
        self.pool.close()
