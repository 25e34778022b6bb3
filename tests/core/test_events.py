"""The event bus runs handlers in the publisher's transaction."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.auth import User, create_user
from core.clock import FrozenClock
from core.events import Event, EventBus, publish


@dataclass(frozen=True)
class Pinged(Event):
    name = "test.pinged"
    email: str


def test_handlers_write_in_the_same_transaction(
    session_factory: sessionmaker[Session], bus: EventBus, clock: FrozenClock
) -> None:
    def on_ping(session: Session, event: Pinged) -> None:
        create_user(session, name="from handler", email=event.email, clock=clock)

    bus.subscribe(Pinged, on_ping)

    with session_factory() as session, session.begin():
        publish(session, Pinged(email="ok@x.io"))

    def failing_use_case() -> None:
        with session_factory() as session, session.begin():
            publish(session, Pinged(email="rolled-back@x.io"))
            raise RuntimeError("the use case fails after the event")

    with pytest.raises(RuntimeError):
        failing_use_case()

    with session_factory() as session:
        emails = set(session.scalars(select(User.email)))
    assert "ok@x.io" in emails
    assert "rolled-back@x.io" not in emails


def test_publish_without_bus_is_a_no_op(session: Session) -> None:
    session.info.clear()
    publish(session, Pinged(email="nobody@x.io"))
    assert session.scalar(select(func.count()).select_from(User)) == 0
