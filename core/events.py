"""Domain events: how a lower module tells a higher one that something happened.

Events are published inside the use case's transaction and handled
synchronously, so a handler's writes commit or roll back with the use case.
Handlers write rows and never do network I/O. The bus travels with the
session (`session.info["bus"]`), so services publish without knowing who
listens.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

BUS_KEY = "bus"


@dataclass(frozen=True)
class Event:
    """Base of every domain event; subclasses set `name`, dotted past tense."""

    name: ClassVar[str] = "event"


E = TypeVar("E", bound=Event)
Handler = Callable[[Session, Any], None]


class EventBus:
    """Synchronous publish/subscribe keyed by event name."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[Session, E], None]) -> None:
        """Call `handler(session, event)` for every published `event_type`."""
        self._handlers[event_type.name].append(handler)

    def handlers_for(self, name: str) -> tuple[Handler, ...]:
        return tuple(self._handlers.get(name, ()))

    def dispatch(self, session: Session, event: Event) -> None:
        for handler in self._handlers.get(event.name, ()):
            handler(session, event)


def publish(session: Session, event: Event) -> None:
    """Hand `event` to the bus of `session` (no bus: nobody listens, nothing happens)."""
    bus = session.info.get(BUS_KEY)
    if bus is None:
        logger.debug("event %s published on a session without a bus", event.name)
        return
    bus.dispatch(session, event)
