"""A configuration dialog: the user's choices and the state shown after each one.

A `Session` is small (choices plus the last valid domains) and can be rebuilt
from those two dicts, so the persistence layer may store them as JSON. All
heavy work happens in the shared `Configurator`.

State semantics:
- `choices` holds every user choice (set_by "user"), every variable whose
  valid domain shrank to one value (set_by "engine") and every default that
  is still consistent for a variable the user left open (set_by "default").
- `domains` holds, for every open variable and unanswered need, exactly the
  values that extend to a valid product (a variable with a default is open).
- `complete` is true when every technical variable is set by the user or forced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from configurator.engine import Configurator, Domains
from configurator.errors import ChoiceUnavailable
from configurator.explain import Explanation, explain
from configurator.expression import Value
from configurator.optimise import Choice, Completion, PriceRange, apply_defaults, complete
from configurator.optimise import price_range as compute_price_range
from configurator.pricing import Bom, bill_of_materials, price
from core.errors import InvalidInput


@dataclass(frozen=True)
class ConfigState:
    """What the form shows after a choice."""

    choices: dict[str, Choice]
    domains: Domains
    complete: bool
    price: PriceRange | None


class Session:
    """One customer's dialog over a shared `Configurator`."""

    def __init__(
        self,
        cfg: Configurator,
        choices: Mapping[str, object] | None = None,
        domains: Mapping[str, Sequence[Value]] | None = None,
    ) -> None:
        self.cfg = cfg
        self.choices: dict[str, Value] = cfg.normalize(choices or {})
        self.domains: Domains = (
            {k: list(v) for k, v in domains.items()}
            if domains is not None
            else cfg.valid_domains(self.choices)
        )

    def choose(self, name: str, raw: object) -> Domains:
        """Set a variable (or answer a need); raises ChoiceUnavailable with an explanation."""
        value = self.cfg.normalize({name: raw})[name]
        if name in self.choices:
            if self.choices[name] == value:
                return self.domains
            self.unset(name)
        offered = self.domains.get(name, [])
        if value not in offered:
            raise ChoiceUnavailable(f"choices.{name}", self.explain(name, value))
        self.choices[name] = value
        self.domains = self.cfg.valid_domains(self.choices, self.domains)
        return self.domains

    def unset(self, name: str) -> Domains:
        """Withdraw a choice; domains are recomputed from scratch (values may come back)."""
        self.choices.pop(name, None)
        self.domains = self.cfg.valid_domains(self.choices)
        return self.domains

    def explain(self, name: str, raw: object) -> Explanation:
        value = self.cfg.normalize({name: raw})[name]
        return explain(self.cfg, self.choices, name, value)

    @property
    def forced(self) -> dict[str, Value]:
        """Open technical variables with a single valid value left."""
        return {k: v[0] for k, v in self.domains.items() if len(v) == 1 and k in self.cfg.variables}

    @property
    def is_complete(self) -> bool:
        return all(len(self.domains[v]) == 1 for v in self.cfg.variables if v not in self.choices)

    def product(self) -> dict[str, Value]:
        """The complete product (user and forced values); only when `is_complete`."""
        if not self.is_complete:
            raise InvalidInput("choices", "the configuration is not complete")
        return {
            v: self.choices[v] if v in self.choices else self.domains[v][0]
            for v in self.cfg.variables
        }

    def state(self, *, with_price: bool = True) -> ConfigState:
        choices = {k: Choice(v, "user") for k, v in self.choices.items()}
        choices.update({k: Choice(v, "engine") for k, v in self.forced.items()})
        if self.cfg.model.defaults:
            applied, _ = apply_defaults(self.cfg, self.choices)
            choices.update(
                {k: Choice(v, "default") for k, v in applied.items() if k not in choices}
            )
        domains = {k: v for k, v in self.domains.items() if len(v) > 1 or k in self.cfg.needs}
        price_range = self.price_range() if with_price else None
        return ConfigState(choices, domains, self.is_complete, price_range)

    def price_range(self) -> PriceRange:
        if self.is_complete:
            exact = price(self.cfg.model, self.product())
            return PriceRange(exact, exact)
        return compute_price_range(self.cfg, self.choices)

    def complete(self, objective: Mapping[str, Mapping[Value, float]] | None = None) -> Completion:
        """The cheapest (or best by `objective`) product keeping every user choice."""
        return complete(self.cfg, self.choices, objective=objective)

    def bom(self) -> Bom:
        return bill_of_materials(self.cfg.model, self.product())
