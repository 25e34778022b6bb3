"""A campaign's delivery policy: fallback order, quiet hours, frequency cap.

Stored as campaign columns, validated on save (every problem names its
field), and turned into the `channels.choice.Policy` dispatch applies. Quiet
hours given for a channel replace Campana's default window for it (`null`
lifts it); channels not named keep their defaults.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import time, timedelta
from typing import Any

from channels.choice import Policy
from core.errors import InvalidInput, InvalidInputs

DEFAULT_POLICY = Policy()
MAX_WINDOW_DAYS = 366
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _known(channel: str, channels: Collection[str]) -> bool:
    return channel in channels or channel == "phone"


def _fallback_problems(value: Any, channels: Collection[str]) -> list[InvalidInput]:
    problems = []
    seen: set[str] = set()
    for i, channel in enumerate(value):
        if not _known(channel, channels):
            problems.append(InvalidInput(f"fallback[{i}]", f"unknown channel {channel!r}"))
        elif channel in seen:
            problems.append(InvalidInput(f"fallback[{i}]", f"channel {channel!r} listed twice"))
        seen.add(channel)
    return problems


def _quiet_problems(value: Mapping[str, Any], channels: Collection[str]) -> list[InvalidInput]:
    problems = []
    for channel, window in value.items():
        field = f"quiet_hours.{channel}"
        if not _known(channel, channels):
            problems.append(InvalidInput(field, f"unknown channel {channel!r}"))
        elif window is None:
            continue
        elif len(window) != 2:
            problems.append(InvalidInput(field, 'must be ["HH:MM", "HH:MM"] (start, end)'))
        else:
            bad = [i for i, t in enumerate(window) if not _HHMM.match(t)]
            problems += [InvalidInput(f"{field}[{i}]", "must be a time HH:MM") for i in bad]
            if not bad and window[0] == window[1]:
                problems.append(InvalidInput(field, "start and end are the same time"))
    return problems


def check_policy(changes: Mapping[str, Any], channels: Collection[str]) -> None:
    """Refuse a bad policy field (422 naming every bad field and why)."""
    problems: list[InvalidInput] = []
    if changes.get("fallback") is not None:
        problems += _fallback_problems(changes["fallback"], channels)
    if changes.get("quiet_hours") is not None:
        problems += _quiet_problems(changes["quiet_hours"], channels)
    cap = changes.get("frequency_cap")
    if cap is not None and cap <= 0:
        problems.append(InvalidInput("frequency_cap", "must be at least 1 message"))
    days = changes.get("frequency_window_days")
    if days is not None and not 0 < days <= MAX_WINDOW_DAYS:
        problems.append(
            InvalidInput("frequency_window_days", f"must be from 1 to {MAX_WINDOW_DAYS} days")
        )
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidInputs(problems)


def build_policy(
    fallback: list[Any] | None,
    quiet_hours: Mapping[str, Any] | None,
    frequency_cap: int | None,
    frequency_window_days: int | None,
) -> Policy:
    """The choice policy from a campaign's (validated) fields; defaults where unset."""
    if all(v is None for v in (fallback, quiet_hours, frequency_cap, frequency_window_days)):
        return DEFAULT_POLICY
    windows = dict(DEFAULT_POLICY.quiet_hours)
    for channel, window in (quiet_hours or {}).items():
        if window is None:
            windows.pop(channel, None)
        else:
            windows[channel] = (time.fromisoformat(window[0]), time.fromisoformat(window[1]))
    return Policy(
        fallback=tuple(fallback) if fallback is not None else DEFAULT_POLICY.fallback,
        quiet_hours=windows,
        frequency_cap=frequency_cap if frequency_cap is not None else DEFAULT_POLICY.frequency_cap,
        frequency_window=(
            timedelta(days=frequency_window_days)
            if frequency_window_days is not None
            else DEFAULT_POLICY.frequency_window
        ),
    )
