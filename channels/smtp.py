"""One SMTP session: smtplib opens it (EHLO, STARTTLS, AUTH), then a lean loop sends.

After the handshake the session owns the socket: replies are parsed from
its own buffer, and with PIPELINING the envelope of the next message (MAIL,
RCPT, DATA) leaves before the answer to the previous message's final dot is
read, so a message costs one round trip. No message can be accepted before
its body and dot are sent, and those go only after the previous answer has
been handed to the caller.
"""

from __future__ import annotations

import smtplib
import socket
import ssl

from channels.base import ChannelError
from core.settings import SmtpSettings

Reply = tuple[int, bytes]
EXPECTED = (250, 250, 354)


def reply_error(code: int, text: bytes) -> ChannelError:
    reason = f"smtp {code} {text.decode(errors='replace').strip()}"
    return ChannelError(reason, permanent=500 <= code < 600)


class SmtpConnection:
    """An authenticated session that sends prebuilt MIME bytes."""

    def __init__(self, settings: SmtpSettings) -> None:
        if settings.host is None:
            raise ChannelError("smtp: no host configured", permanent=True)
        self.sent = 0
        self.broken = False
        self._buffer = b""
        try:
            # Connecting in the constructor records the host STARTTLS checks the certificate for.
            self._smtp = smtplib.SMTP(
                settings.host, settings.port, timeout=settings.timeout_seconds
            )
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelError(f"smtp connect: {exc}") from exc
        try:
            self._smtp.ehlo()
            if settings.starttls:
                self._smtp.starttls(context=ssl.create_default_context())
                self._smtp.ehlo()
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                self._smtp.login(settings.username, password)
        except (OSError, smtplib.SMTPException) as exc:
            self._smtp.close()
            raise ChannelError(f"smtp connect: {exc}") from exc
        self.pipelining = self._smtp.has_extn("pipelining")
        if self._smtp.sock is None:
            raise ChannelError("smtp connect: no socket after the handshake")
        self._sock: socket.socket = self._smtp.sock

    def envelope(self, sender: str, recipient: str) -> None:
        """Write MAIL, RCPT and DATA at once (PIPELINING); their replies are read later."""
        self._write(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())

    def begin(self, sender: str, recipient: str, data: bytes, *, envelope_sent: bool) -> None:
        """Envelope (unless already written) and body up to the final dot."""
        if self.pipelining:
            if not envelope_sent:
                self.envelope(sender, recipient)
            replies = self._replies(3)
        else:
            replies = []
            for command in (f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>", "DATA"):
                self._write(command.encode() + b"\r\n")
                replies += self._replies(1)
                if replies[-1][0] >= 400:
                    break
        for (code, text), want in zip(replies, EXPECTED, strict=False):
            if code != want:
                self._recover(replies)
                raise reply_error(code, text)
        if data.startswith(b"."):
            data = b"." + data
        self._write(data.replace(b"\r\n.", b"\r\n..") + b".\r\n")

    def end(self) -> None:
        """The answer to the last body sent: accepted, or ChannelError."""
        ((code, text),) = self._replies(1)
        if code != 250:
            self.broken = self.broken or code == 421
            raise reply_error(code, text)
        self.sent += 1

    def _recover(self, replies: list[Reply]) -> None:
        """After a refused command: reset the session, or give the connection up."""
        if any(code == 421 for code, _ in replies) or (len(replies) == 3 and replies[2][0] == 354):
            self.broken = True  # closing server, or DATA granted without a recipient
            return
        self._write(b"RSET\r\n")
        ((code, _),) = self._replies(1)
        self.broken = code != 250

    def _write(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as exc:
            self.broken = True
            raise ChannelError(f"smtp connection lost: {exc}") from exc

    def _replies(self, count: int) -> list[Reply]:
        """The next `count` replies (multi-line replies read as their last line)."""
        replies: list[Reply] = []
        while True:
            while len(replies) < count:
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    break
                line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
                if line[3:4] == b"-":
                    continue
                try:
                    replies.append((int(line[:3]), line[4:]))
                except ValueError:
                    self.broken = True
                    raise ChannelError(f"smtp: unreadable reply {line[:80]!r}") from None
            if len(replies) == count:
                return replies
            try:
                chunk = self._sock.recv(65536)
            except OSError as exc:
                self.broken = True
                raise ChannelError(f"smtp connection lost: {exc}") from exc
            if not chunk:
                self.broken = True
                raise ChannelError("smtp connection lost: closed by the server")
            self._buffer += chunk

    def close(self) -> None:
        if not self.broken:
            try:
                self._write(b"QUIT\r\n")
                self._replies(1)
            except ChannelError:
                pass
        self._smtp.close()
