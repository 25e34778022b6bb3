"""SFA's own domain errors."""

from __future__ import annotations

from core.errors import Conflict


class StaleVersion(Conflict):
    """The client's `If-Match` names an older version than the stored one."""

    def __init__(self, entity: str, current: str) -> None:
        super().__init__(f"{entity} changed since it was read (now {current})", field="If-Match")
        self.current = current
