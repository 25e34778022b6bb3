"""Why a value is unavailable: a minimal conflict (QuickXplain) and what to change.

The conflict is a subset-minimal set of the user's choices that, with the
model's rules, excludes the value: dropping any one of them makes the value
available unless another conflict remains. The rules involved are minimised
the same way on a second solver whose rules are guarded by selector literals.
`retract` is a minimal set of choices whose removal makes the value available.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from configurator.expression import Value

if TYPE_CHECKING:
    from configurator.engine import Configurator

Check = Callable[[list[int]], bool]
CORE_ROUNDS = 4


@dataclass(frozen=True)
class Explanation:
    """Why `variable=value` is out (or, with no variable, why the choices clash)."""

    variable: str | None
    value: Value | None
    available: bool
    conflict: dict[str, Value] = field(default_factory=dict)
    rules: tuple[str, ...] = ()
    retract: dict[str, Value] = field(default_factory=dict)

    @property
    def message(self) -> str:
        if self.variable is None:
            text = "these choices are incompatible" + (
                f": {_pairs(self.conflict)}" if self.conflict else ""
            )
        elif self.available:
            return f"{self.variable}={self.value!r} is available"
        else:
            text = f"{self.variable}={self.value!r} is unavailable"
            text += f" because of {_pairs(self.conflict)}" if self.conflict else ""
        if self.rules:
            text += f" (rules: {'; '.join(self.rules)})"
        if self.retract:
            return text + f"; change {_pairs(self.retract)} to make it possible"
        if self.variable is not None:
            return text + "; no change of choices can make it possible"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "value": self.value,
            "available": self.available,
            "conflict": dict(self.conflict),
            "rules": list(self.rules),
            "retract": dict(self.retract),
            "message": self.message,
        }


def _pairs(choices: Mapping[str, Value]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in choices.items())


def explain(
    cfg: Configurator, choices: Mapping[str, Value], variable: str, value: Value
) -> Explanation:
    """Explain why `variable=value` has no valid product together with `choices`."""
    others = {k: v for k, v in choices.items() if k != variable}
    background = [cfg.encoding.lit(variable, value)]
    return _explain(cfg, others, background, variable, value)


def explain_conflict(cfg: Configurator, choices: Mapping[str, Value]) -> Explanation:
    """Explain why a set of choices admits no product at all."""
    return _explain(cfg, choices, [], None, None)


def _explain(
    cfg: Configurator,
    choices: Mapping[str, Value],
    background: list[int],
    variable: str | None,
    value: Value | None,
) -> Explanation:
    items = {cfg.encoding.lit(k, v): k for k, v in choices.items()}
    with cfg.solver() as solver:
        check: Check = lambda lits: bool(solver.solve(assumptions=lits))  # noqa: E731
        if check(background + list(items)):
            return Explanation(variable, value, True)
        core = trim_core(solver, background, list(items))
        minimal = quickxplain(check, background, core)
        retract = _correction(check, background, list(items), minimal, core)
    conflict_lits = background + minimal
    rules = minimal_rules(cfg, conflict_lits)
    return Explanation(
        variable,
        value,
        False,
        conflict={items[lit]: choices[items[lit]] for lit in minimal},
        rules=tuple(rules),
        retract={items[lit]: choices[items[lit]] for lit in retract},
    )


def quickxplain(check: Check, background: list[int], items: Sequence[int]) -> list[int]:
    """A subset-minimal part of `items` inconsistent with `background` (Junker 2004).

    Requires `background + items` to be inconsistent.
    """
    if not check(background):
        return []
    return _qx(check, background, False, list(items))


def _qx(check: Check, background: list[int], added: bool, items: list[int]) -> list[int]:
    if added and not check(background):
        return []
    if len(items) == 1:
        return items
    half = len(items) // 2
    first, second = items[:half], items[half:]
    found2 = _qx(check, background + first, bool(first), second)
    found1 = _qx(check, background + found2, bool(found2), first)
    return found1 + found2


def trim_core(solver: Any, background: list[int], items: list[int]) -> list[int]:
    """Shrink the solver's last unsat core over `items` by re-solving on it (cheap calls)."""
    core = items
    for _ in range(CORE_ROUNDS):
        wanted = set(core)
        smaller = [lit for lit in solver.get_core() or [] if lit in wanted]
        if len(smaller) == len(core) or solver.solve(assumptions=background + smaller):
            return core
        core = smaller
    return core


def _correction(
    check: Check, background: list[int], items: list[int], conflict: list[int], core: list[int]
) -> list[int]:
    """A minimal set of items to drop so that the rest is consistent with `background`.

    Greedy growth of a consistent subset: started from the items outside the
    core when those are consistent, it yields a maximal consistent subset, so
    the dropped items form a minimal correction set.
    """
    if not check(background):
        return []
    for lit in conflict:
        if check(background + [i for i in items if i != lit]):
            return [lit]
    in_core = set(core)
    keep = [i for i in items if i not in in_core]
    candidates = core
    if not check(background + keep):
        keep, candidates = [], items
    dropped: list[int] = []
    for lit in candidates:
        if check([*background, *keep, lit]):
            keep.append(lit)
        else:
            dropped.append(lit)
    return dropped


def minimal_rules(cfg: Configurator, lits: list[int]) -> list[str]:
    """Names of a subset-minimal set of rules that, with `lits`, admit no product."""
    selectors = cfg.selectors
    with cfg.selector_solver() as solver:
        check: Check = lambda active: bool(solver.solve(assumptions=lits + active))  # noqa: E731
        if check(list(selectors)):
            return []
        core = trim_core(solver, lits, list(selectors))
        minimal = quickxplain(lambda a: bool(solver.solve(assumptions=a)), lits, core)
    return [selectors[s] for s in minimal]
