"""A lean SMTP sink for benchmarks: asyncio, PIPELINING, counts messages and Message-IDs.

aiosmtpd tops out near 700 messages/s (the sink becomes what is measured),
so throughput figures use this one. It speaks just enough SMTP: EHLO/HELO,
MAIL, RCPT, DATA, RSET, NOOP, QUIT. Run it in its own process with
`SinkProcess` so it uses the other core.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
import socket
from typing import Any

EHLO = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n"
END = b"\r\n.\r\n"


class _Session(asyncio.Protocol):
    def __init__(self, stats: dict[str, Any]) -> None:
        self.stats = stats
        self.buffer = b""
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ready\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies = []
        while True:
            if self.in_data:
                end = self.buffer.find(END)
                if end < 0:
                    break
                self._message(self.buffer[: end + 2])
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                replies.append(b"250 ok\r\n")
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                break
            line, self.buffer = self.buffer[:line_end], self.buffer[line_end + 2 :]
            replies.append(self._command(line[:4].upper()))
            if self.in_data and self.buffer.startswith(b".\r\n"):
                self._message(b"")
                self.buffer = self.buffer[3:]
                self.in_data = False
                replies.append(b"250 ok\r\n")
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))

    def _command(self, verb: bytes) -> bytes:
        if verb == b"EHLO":
            return EHLO
        if verb == b"DATA":
            self.in_data = True
            return b"354 go on\r\n"
        if verb == b"QUIT":
            if self.transport is not None:
                self.transport.write(b"221 bye\r\n")
                self.transport.close()
            return b""
        return b"250 ok\r\n"

    def _message(self, data: bytes) -> None:
        self.stats["messages"] += 1
        start = data.find(b"\r\nMessage-ID: ")
        if start >= 0:
            end = data.find(b"\r\n", start + 2)
            self.stats["ids"].add(data[start + 14 : end])


def _serve(port: int, ready: multiprocessing.synchronize.Event, conn: Any) -> None:
    stats: dict[str, Any] = {"messages": 0, "ids": set()}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Session(stats), "127.0.0.1", port)
        ready.set()
        await loop.run_in_executor(None, conn.recv)
        server.close()

    asyncio.run(main())
    conn.send((stats["messages"], len(stats["ids"])))


class SinkProcess:
    """`with SinkProcess() as sink:` ... `sink.stop()` -> (messages, distinct Message-IDs)."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._ready = multiprocessing.Event()
        self._ours, theirs = multiprocessing.Pipe()
        self._process = multiprocessing.Process(
            target=_serve, args=(self.port, self._ready, theirs), daemon=True
        )

    def __enter__(self) -> SinkProcess:
        self._process.start()
        self._ready.wait(10)
        return self

    def stop(self) -> tuple[int, int]:
        self._ours.send("stop")
        counts: tuple[int, int] = self._ours.recv()
        self._process.join(5)
        return counts

    def __exit__(self, *exc: object) -> None:
        if self._process.is_alive():
            self._process.kill()
