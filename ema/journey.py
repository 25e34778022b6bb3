"""Journeys: a graph of steps stored as JSON, parsed and validated on save.

Steps: `send` (content: template id per channel), `wait` (ISO 8601 `duration`
or `until` a date-time), `branch` (`on` a return kind such as `email.opened`,
or a contact `condition` in segment-rule form; `then` / `else`), `split`
(A/B/n `variants` with weights), `task` (an SFA activity for the owner),
`call` (hand to the call center through the `phone` channel) and `goal` (exit
when converted). Validation refuses dangling references, unreachable steps,
cycles that do not pass through a wait, sends without content and channels
that are not available; every error names the step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.errors import InvalidInput, InvalidInputs
from ema.segment_rules import parse_time, validate_rules

STEP_TYPES = ("send", "wait", "branch", "split", "task", "call", "goal")
DEFAULT_CHANNELS = frozenset({"email", "sms", "webhook", "web", "post", "file"})
BRANCH_ALIASES = {
    "opened": "email.opened",
    "clicked": "email.clicked",
    "replied": "email.replied",
    "converted": "contact.converted",
}
CONVERSION_KIND = "contact.converted"
"""The return kind of every conversion; `detail.source` says which event it was."""
MAX_STEPS = 200

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)

TemplateCheck = Callable[[str, Any], str | None]
"""(channel, template id) -> None when fine, else the reason it is not."""


def parse_duration(text: Any) -> timedelta | None:
    """An ISO 8601 duration in weeks, days, hours, minutes, seconds (no years or months)."""
    if not isinstance(text, str) or text in ("P", "PT") or text.endswith("T"):
        return None
    match = _DURATION.match(text)
    if match is None:
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)


def branch_kind(step: dict[str, Any]) -> str | None:
    """The return kind a branch step tests, aliases resolved (None for a field branch)."""
    on = step.get("on")
    return BRANCH_ALIASES.get(on, on) if isinstance(on, str) else None


@dataclass(frozen=True)
class Journey:
    """A validated journey: its start and its steps by id."""

    start: str
    steps: dict[str, dict[str, Any]]

    def step(self, step_id: str) -> dict[str, Any]:
        return self.steps[step_id]

    def has_goal(self) -> bool:
        return any(s["type"] == "goal" for s in self.steps.values())


def successors(step: dict[str, Any]) -> list[str]:
    """The step ids `step` may lead to."""
    kind = step.get("type")
    if kind == "branch":
        targets = [step.get("then"), step.get("else")]
    elif kind == "split":
        variants = step.get("variants")
        targets = [v.get("next") for v in variants if isinstance(v, dict)] if variants else []
    else:
        targets = [step.get("next")]
    return [t for t in targets if t is not None]


def parse_journey(
    data: Any,
    *,
    channels: Collection[str] = DEFAULT_CHANNELS,
    template_check: TemplateCheck | None = None,
) -> Journey:
    """Validate `data` and return the Journey; InvalidInputs names each bad step."""
    errors: list[InvalidInput] = []
    if not isinstance(data, dict):
        raise InvalidInput("journey", "must be an object with start and steps")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise InvalidInput("journey.steps", "must be a non-empty list of steps")
    if len(steps) > MAX_STEPS:
        raise InvalidInput("journey.steps", f"at most {MAX_STEPS} steps")
    by_id = _index_steps(steps, errors)
    start = data.get("start")
    if start not in by_id:
        errors.append(InvalidInput("journey.start", f"names no step: {start!r}"))
    paths = {step_id: f"journey.steps[{i}]" for step_id, (i, _) in by_id.items()}
    for step_id, (_, step) in by_id.items():
        _check_step(step, paths[step_id], by_id, channels, template_check, errors)
    if not errors:
        _check_graph(str(start), {k: s for k, (_, s) in by_id.items()}, paths, errors)
    if errors:
        raise InvalidInputs(errors)
    return Journey(start=str(start), steps={k: s for k, (_, s) in by_id.items()})


def load_journey(data: dict[str, Any]) -> Journey:
    """A journey already validated on save (no checks, for the executor)."""
    return Journey(start=data["start"], steps={s["id"]: s for s in data["steps"]})


def _index_steps(
    steps: list[Any], errors: list[InvalidInput]
) -> dict[str, tuple[int, dict[str, Any]]]:
    by_id: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, step in enumerate(steps):
        path = f"journey.steps[{index}]"
        if not isinstance(step, dict):
            errors.append(InvalidInput(path, "a step must be an object"))
            continue
        step_id = step.get("id")
        if not isinstance(step_id, str) or not 0 < len(step_id) <= 64:
            errors.append(InvalidInput(f"{path}.id", "must be a string of 1 to 64 characters"))
        elif step_id in by_id:
            errors.append(InvalidInput(f"{path}.id", f"duplicate step id {step_id!r}"))
        else:
            by_id[step_id] = (index, step)
    return by_id


def _check_step(
    step: dict[str, Any],
    path: str,
    by_id: dict[str, Any],
    channels: Collection[str],
    template_check: TemplateCheck | None,
    errors: list[InvalidInput],
) -> None:
    name = f"step {step['id']!r}"
    kind = step.get("type")
    if kind not in STEP_TYPES:
        errors.append(InvalidInput(f"{path}.type", f"{name}: unknown type {kind!r}"))
        return
    for key, target in _references(step):
        if target is not None and target not in by_id:
            errors.append(InvalidInput(f"{path}.{key}", f"{name}: names no step {target!r}"))
    checker = _CHECKERS.get(kind)
    if checker is not None:
        for field, reason in checker(step, channels, template_check):
            errors.append(InvalidInput(f"{path}.{field}", f"{name}: {reason}"))


def _references(step: dict[str, Any]) -> list[tuple[str, Any]]:
    if step["type"] == "branch":
        return [("then", step.get("then")), ("else", step.get("else"))]
    if step["type"] == "split":
        variants = step.get("variants")
        if not isinstance(variants, list):
            return []
        return [
            (f"variants[{i}].next", v.get("next"))
            for i, v in enumerate(variants)
            if isinstance(v, dict)
        ]
    return [("next", step.get("next"))]


Problems = list[tuple[str, str]]


def _check_send(
    step: dict[str, Any], channels: Collection[str], template_check: TemplateCheck | None
) -> Problems:
    content = step.get("content")
    if not isinstance(content, dict) or not content:
        return [("content", "a send needs content for at least one channel")]
    problems: Problems = []
    for channel, template_id in content.items():
        if channel not in channels:
            problems.append((f"content.{channel}", f"channel {channel!r} is not available"))
        elif not isinstance(template_id, int) or isinstance(template_id, bool):
            problems.append((f"content.{channel}", "must be a template id"))
        elif template_check is not None:
            reason = template_check(channel, template_id)
            if reason:
                problems.append((f"content.{channel}", reason))
    return problems


def _check_wait(step: dict[str, Any], _c: Collection[str], _t: TemplateCheck | None) -> Problems:
    has_duration, has_until = "duration" in step, "until" in step
    if has_duration == has_until:
        return [("duration", "a wait needs exactly one of duration or until")]
    if has_duration:
        delta = parse_duration(step["duration"])
        if delta is None or delta <= timedelta(0):
            return [("duration", "must be a positive ISO 8601 duration such as P2D or PT6H")]
        return []
    parsed = parse_time(step["until"])
    if parsed is None:
        return [("until", "must be an ISO 8601 date-time with a zone")]
    return []


def _check_branch(step: dict[str, Any], _c: Collection[str], _t: TemplateCheck | None) -> Problems:
    if "then" not in step:
        return [("then", "a branch needs then (and optionally else)")]
    if ("on" in step) == ("condition" in step):
        return [("on", "a branch needs exactly one of on (a return kind) or condition")]
    if "on" in step:
        kind = branch_kind(step)
        if kind is None or "." not in kind:
            return [("on", "must be a return kind such as email.opened, or opened/clicked/...")]
        return []
    try:
        validate_rules(step["condition"], root="condition")
    except InvalidInputs as exc:
        return [(e.field, e.reason) for e in exc.errors]
    return []


def _check_split(step: dict[str, Any], _c: Collection[str], _t: TemplateCheck | None) -> Problems:
    variants = step.get("variants")
    if not isinstance(variants, list) or len(variants) < 2:
        return [("variants", "a split needs at least two variants")]
    problems: Problems = []
    names: set[str] = set()
    for i, variant in enumerate(variants):
        if not isinstance(variant, dict):
            problems.append((f"variants[{i}]", "must be an object with name, weight, next"))
            continue
        name, weight = variant.get("name"), variant.get("weight")
        if not isinstance(name, str) or not 0 < len(name) <= 32 or name in names:
            problems.append((f"variants[{i}].name", "must be a unique name of 1-32 characters"))
        names.add(str(name))
        if not isinstance(weight, int) or isinstance(weight, bool) or weight <= 0:
            problems.append((f"variants[{i}].weight", "must be a positive integer"))
    return problems


def _check_task(step: dict[str, Any], _c: Collection[str], _t: TemplateCheck | None) -> Problems:
    subject = step.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        return [("subject", "a task needs a subject")]
    if "due_in" in step and parse_duration(step["due_in"]) is None:
        return [("due_in", "must be an ISO 8601 duration such as P1D")]
    return []


def _check_call(
    step: dict[str, Any], channels: Collection[str], _t: TemplateCheck | None
) -> Problems:
    if "phone" not in channels:
        return [("type", "no phone channel is registered (call center not available)")]
    return []


def _check_goal(step: dict[str, Any], _c: Collection[str], _t: TemplateCheck | None) -> Problems:
    on = step.get("on", CONVERSION_KIND)
    return [] if isinstance(on, str) and "." in on else [("on", "must be a return kind")]


Checker = Callable[[dict[str, Any], Collection[str], TemplateCheck | None], Problems]
_CHECKERS: dict[str, Checker] = {
    "send": _check_send,
    "wait": _check_wait,
    "branch": _check_branch,
    "split": _check_split,
    "task": _check_task,
    "call": _check_call,
    "goal": _check_goal,
}


def _check_graph(
    start: str, steps: dict[str, dict[str, Any]], paths: dict[str, str], errors: list[InvalidInput]
) -> None:
    reached = _reachable(start, steps)
    for step_id in steps:
        if step_id not in reached:
            reason = f"step {step_id!r}: not reachable from start"
            errors.append(InvalidInput(paths[step_id], reason))
    cycle = _instant_cycle(steps)
    if cycle:
        where = " -> ".join([*cycle, cycle[0]])
        errors.append(
            InvalidInput(
                paths[cycle[0]],
                f"step {cycle[0]!r}: cycle without a wait of some duration: {where}",
            )
        )


def _reachable(start: str, steps: dict[str, dict[str, Any]]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(successors(steps[current]))
    return seen


def _delays(step: dict[str, Any]) -> bool:
    """A wait of a positive duration. A wait `until` a date does not break a cycle: once
    the date has passed, every lap would be due at once and the loop would never rest."""
    if step["type"] != "wait":
        return False
    duration = parse_duration(step.get("duration"))
    return duration is not None and duration > timedelta(0)


def _instant_cycle(steps: dict[str, dict[str, Any]]) -> list[str]:
    """A cycle with no wait of a positive duration in it ([] when none)."""
    graph = {
        k: [t for t in successors(s) if not _delays(steps[t])]
        for k, s in steps.items()
        if not _delays(s)
    }
    state: dict[str, int] = {}
    for root in graph:
        found = _dfs_cycle(root, graph, state, [])
        if found:
            return found
    return []


def _dfs_cycle(
    node: str, graph: dict[str, list[str]], state: dict[str, int], trail: list[str]
) -> list[str]:
    if state.get(node) == 2:
        return []
    if state.get(node) == 1:
        return trail[trail.index(node) :]
    state[node] = 1
    trail.append(node)
    for target in graph[node]:
        found = _dfs_cycle(target, graph, state, trail)
        if found:
            return found
    trail.pop()
    state[node] = 2
    return []
