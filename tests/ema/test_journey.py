"""Journey validation: every bad journey is refused naming the step and the field."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidInput, InvalidInputs
from ema.journey import DEFAULT_CHANNELS, parse_duration, parse_journey

GOOD: dict[str, Any] = {
    "start": "s1",
    "steps": [
        {"id": "s1", "type": "send", "content": {"email": 7, "sms": 8}, "next": "w1"},
        {"id": "w1", "type": "wait", "duration": "P2D", "next": "b1"},
        {"id": "b1", "type": "branch", "on": "email.opened", "then": "s2", "else": "x1"},
        {"id": "s2", "type": "send", "content": {"email": 9}},
        {
            "id": "x1",
            "type": "split",
            "variants": [
                {"name": "A", "weight": 1, "next": "t1"},
                {"name": "B", "weight": 3, "next": "g1"},
            ],
        },
        {"id": "t1", "type": "task", "subject": "Call them", "next": "g1"},
        {"id": "g1", "type": "goal"},
    ],
}


def _errors(journey: Any, **kwargs: Any) -> list[tuple[str, str]]:
    try:
        parse_journey(journey, **kwargs)
    except InvalidInputs as many:
        errors = many.errors
    except InvalidInput as one:
        errors = [one]
    else:
        pytest.fail("the journey validated")
    return [(e.field, e.reason) for e in errors]


def _with(index: int, **changes: Any) -> dict[str, Any]:
    steps = [dict(s) for s in GOOD["steps"]]
    steps[index].update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del steps[index][key]
    return {"start": "s1", "steps": steps}


def test_the_issue_example_validates() -> None:
    journey = parse_journey(GOOD)
    assert journey.start == "s1"
    assert journey.has_goal()


def test_bad_journeys_name_the_step() -> None:
    # bad inputs: dangling next, unknown type, send without content, unavailable channel,
    # non-integer template id, bad duration, wait with both duration and until, branch
    # without then, split with one variant, task without subject or with a bad due_in,
    # duplicate ids, bad start
    assert _errors(_with(3, next="nowhere")) == [
        ("journey.steps[3].next", "step 's2': names no step 'nowhere'")
    ]
    assert _errors(_with(0, type="teleport"))[0][0] == "journey.steps[0].type"
    assert _errors(_with(0, content={}))[0][0] == "journey.steps[0].content"
    assert _errors(_with(0, content={"fax": 1}))[0] == (
        "journey.steps[0].content.fax",
        "step 's1': channel 'fax' is not available",
    )
    assert _errors(_with(0, content={"email": "seven"}))[0][0] == "journey.steps[0].content.email"
    assert _errors(_with(1, duration="2 days"))[0][0] == "journey.steps[1].duration"
    assert _errors(_with(1, until="2026-05-01T00:00:00+00:00"))[0][0] == "journey.steps[1].duration"
    assert _errors(_with(2, then=None))[0][0] == "journey.steps[2].then"
    assert _errors(_with(4, variants=[{"name": "A", "weight": 1, "next": "g1"}]))[0][0] == (
        "journey.steps[4].variants"
    )
    assert _errors(_with(5, subject=""))[0][0] == "journey.steps[5].subject"
    assert _errors(_with(5, due_in="tomorrow"))[0][0] == "journey.steps[5].due_in"
    assert _errors(_with(6, id="s1"))[0] == ("journey.steps[6].id", "duplicate step id 's1'")
    assert _errors({**GOOD, "start": "zz"})[0][0] == "journey.start"
    assert _errors({"start": "a", "steps": []})[0][0] == "journey.steps"


def test_unreachable_steps_and_cycles_without_wait() -> None:
    orphan = {**GOOD, "steps": [*GOOD["steps"], {"id": "lost", "type": "goal"}]}
    assert _errors(orphan) == [("journey.steps[7]", "step 'lost': not reachable from start")]
    loop = {
        "start": "a",
        "steps": [
            {"id": "a", "type": "send", "content": {"email": 1}, "next": "b"},
            {"id": "b", "type": "branch", "on": "opened", "then": "c", "else": "a"},
            {"id": "c", "type": "goal"},
        ],
    }
    assert "cycle without a wait of some duration: a -> b -> a" in _errors(loop)[0][1]
    # A wait until a fixed date would let every lap fall due at once after that date.
    dated = {
        "start": "a",
        "steps": [
            {"id": "a", "type": "send", "content": {"email": 1}, "next": "w"},
            {"id": "w", "type": "wait", "until": "2026-01-01T00:00:00Z", "next": "b"},
            {"id": "b", "type": "branch", "on": "opened", "then": "c", "else": "a"},
            {"id": "c", "type": "goal"},
        ],
    }
    assert "cycle without a wait of some duration" in _errors(dated)[0][1]
    waited = {
        "start": "a",
        "steps": [
            {"id": "a", "type": "send", "content": {"email": 1}, "next": "w"},
            {"id": "w", "type": "wait", "duration": "PT6H", "next": "b"},
            {"id": "b", "type": "branch", "on": "opened", "then": "c", "else": "a"},
            {"id": "c", "type": "goal"},
        ],
    }
    assert parse_journey(waited).start == "a"


def test_call_steps_need_a_phone_channel_and_templates_are_checked() -> None:
    journey = {"start": "c", "steps": [{"id": "c", "type": "call", "script": 3}]}
    assert _errors(journey)[0] == (
        "journey.steps[0].type",
        "step 'c': no phone channel is registered (call center not available)",
    )
    assert parse_journey(journey, channels=DEFAULT_CHANNELS | {"phone"}).start == "c"

    def check(channel: str, template_id: Any) -> str | None:
        return None if (channel, template_id) == ("email", 7) else f"template {template_id} no"

    errors = _errors(GOOD, template_check=check)
    assert [f for f, _ in errors] == [
        "journey.steps[0].content.sms",
        "journey.steps[3].content.email",
    ]


def test_durations() -> None:
    assert parse_duration("P2D").days == 2  # type: ignore[union-attr]
    assert parse_duration("PT90M").total_seconds() == 5400  # type: ignore[union-attr]
    assert parse_duration("P1W2DT3H") is not None
    for bad in ("P", "PT", "P1M", "P1Y", "2D", "P1DT", 5):
        assert parse_duration(bad) is None, bad
