"""Per-channel rate limits from settings, checked on a fake clock (no timing assertions).

Bad inputs tried: a rate of 0 and below, a rate that is not a number, a value that is not JSON.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.orm import Session, sessionmaker

from api.wiring import build_dispatcher
from core.clock import FrozenClock
from core.scheduler import JobContext
from core.settings import Settings, WorkerSettings
from ema.dispatch import RateLimit
from tests.channels import builders


@dataclass
class FakeTime:
    """A monotonic clock that only moves when slept on (or told to)."""

    now: float = 100.0
    sleeps: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_a_limit_of_n_per_second_spaces_sends_by_one_nth_of_a_second() -> None:
    fake = FakeTime()
    limit = RateLimit(20, monotonic=fake.monotonic, sleep=fake.sleep)
    sent_at = []
    for _ in range(5):
        limit.wait()
        sent_at.append(fake.now)
    assert fake.sleeps == pytest.approx([0.05] * 4)
    assert [b - a for a, b in itertools.pairwise(sent_at)] == pytest.approx([0.05] * 4)


def test_a_slow_sender_is_never_held_back() -> None:
    fake = FakeTime()
    limit = RateLimit(20, monotonic=fake.monotonic, sleep=fake.sleep)
    for _ in range(3):
        limit.wait()
        fake.now += 1.0
    assert fake.sleeps == []


def test_rate_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPANA_WORKER_RATE_LIMITS", '{"sms": 20, "email": 0.5}')
    worker = WorkerSettings()
    assert worker.rate_limits == {"sms": 20.0, "email": 0.5}


@pytest.mark.parametrize("raw", ['{"sms": 0}', '{"sms": -3}', '{"sms": "fast"}', "sms=20"])
def test_bad_rate_limits_are_refused(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("CAMPANA_WORKER_RATE_LIMITS", raw)
    with pytest.raises((ValidationError, SettingsError)):
        WorkerSettings()


def test_the_dispatcher_paces_a_limited_channel(
    session: Session, session_factory: sessionmaker[Session], settings: Settings, clock: FrozenClock
) -> None:
    settings.worker.rate_limits = {"email": 10, "sms": 20}
    dispatcher = build_dispatcher(settings)
    assert dispatcher.rate_limits["email"].interval == pytest.approx(0.1)
    assert dispatcher.rate_limits["sms"].interval == pytest.approx(0.05)
    fake = FakeTime()
    dispatcher.rate_limits["email"] = RateLimit(10, monotonic=fake.monotonic, sleep=fake.sleep)
    people = [builders.contact(session) for _ in range(4)]
    builders.outbox(session, [p.id for p in people], {"email": builders.template(session)})
    session.commit()
    assert dispatcher.drain(JobContext(session_factory, settings, clock)) == 4
    assert fake.sleeps == pytest.approx([0.1] * 3)
