"""The `file` channel: one `.eml` file per email, the embedded default.

Files are named after the Message-ID, written to a temporary name and
renamed, so a resend of the same outbox row replaces its file and a reader
never sees half a message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from channels.base import Message, SendResult
from channels.mime import build_mime

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


class FileChannel:
    """Writes what the email channel would send into `directory`."""

    name = "email"

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self._sender = sender

    def path_for(self, message: Message) -> Path:
        return self.directory / (_UNSAFE.sub("_", message.message_id.strip("<>")) + ".eml")

    def send_batch(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        self.directory.mkdir(parents=True, exist_ok=True)
        for message in messages:
            path = self.path_for(message)
            temporary = path.with_suffix(".tmp")
            try:
                temporary.write_bytes(build_mime(message, self._sender))
                os.replace(temporary, path)
            except OSError as exc:
                yield SendResult.transient(message.outbox_id, f"file channel: {exc}")
                continue
            yield SendResult.sent(message.outbox_id, str(path))

    def close(self) -> None:
        """Nothing stays open."""
