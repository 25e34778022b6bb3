"""Seeded random dialogs: a simulated customer for tests and benchmarks.

The customer picks an open variable and one of its offered values until the
configuration is complete; every step times the recomputation of the valid
domains. Because only offered values are picked, a dialog that hits an
empty domain or an invalid final product proves the engine is not
backtrack-free; the final product is checked against the model's rules by
direct evaluation, independently of the solver.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from configurator.engine import Configurator
from configurator.expression import Value
from configurator.model import violations
from configurator.session import Session
from core.errors import InvalidInput


@dataclass(frozen=True)
class DialogResult:
    """The product reached and the seconds each choice took."""

    product: dict[str, Value]
    seconds: list[float]


def random_dialog(
    cfg: Configurator, rng: random.Random, *, answer_needs: bool = False
) -> DialogResult:
    """Run one dialog; raises InvalidInput if the engine ever offers a dead end."""
    session = Session(cfg)
    seconds: list[float] = []
    while not session.is_complete:
        open_names = sorted(
            name
            for name, values in session.domains.items()
            if len(values) > 1 or (answer_needs and name in cfg.needs and values)
        )
        open_names = [n for n in open_names if answer_needs or n not in cfg.needs]
        if not open_names:
            raise InvalidInput("dialog", "incomplete configuration with nothing left to choose")
        name = rng.choice(open_names)
        value = rng.choice(session.domains[name])
        start = time.perf_counter()
        session.choose(name, value)
        seconds.append(time.perf_counter() - start)
        if any(not session.domains.get(v, [None]) for v in cfg.variables):
            raise InvalidInput("dialog", f"a variable has no value left after {name}={value!r}")
    product = session.product()
    broken = violations(cfg.model, {**product, **session.choices})
    if broken:
        raise InvalidInput("dialog", f"the final product breaks {broken[:3]}")
    return DialogResult(product, seconds)
