"""The `post` channel: letters appended to a CSV batch file for a print partner.

One file per worker process and day, `post-YYYYMMDD-<node>.csv` under the
given directory, with the Message-ID, the addressee, the postal address and
the letter text; the print partner picks files up from there.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from channels.base import Message, SendResult

FIELDS = ("message_id", "name", "address", "subject", "letter")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class PostChannel:
    name = "post"

    def __init__(self, directory: Path, node: str) -> None:
        self.directory = directory
        self._node = _UNSAFE.sub("_", node)

    def path_for(self, day: datetime) -> Path:
        return self.directory / f"post-{day:%Y%m%d}-{self._node}.csv"

    def send_batch(self, messages: Iterable[Message]) -> Iterator[SendResult]:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(datetime.now(UTC))
        new = not path.exists()
        with path.open("a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, FIELDS)
            if new:
                writer.writeheader()
            for message in messages:
                writer.writerow(
                    {
                        "message_id": message.message_id,
                        "name": message.data.get("name", ""),
                        "address": message.to,
                        "subject": message.subject or "",
                        "letter": message.text or "",
                    }
                )
                handle.flush()
                yield SendResult.sent(message.outbox_id, path.name)

    def close(self) -> None:
        """Files are closed after each batch."""
