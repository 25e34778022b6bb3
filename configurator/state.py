"""The state of a stored configuration: rendered from a dialog, written to its row.

`record(row, cfg, dialog)` stores what the API shows after a change (choices
with who set them, valid domains, price range); `render(row)` rebuilds the
state from the row alone, so reading a configuration never touches the solver.

The price range is exact (two MaxSAT calls of the engine's `minimise`), and
the cheapest and dearest products found are kept on the row as witnesses: a
choice they agree with leaves them optimal, which skips both solves for many
steps of a dialog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from configurator.engine import Configurator
from configurator.expression import Value
from configurator.models import Configuration, ConfigurationStatus
from configurator.optimise import Completion, minimise
from configurator.pricing import price, price_table
from configurator.session import Session

Costs = Mapping[str, Mapping[Value, float]]


def price_range(
    cfg: Configurator, dialog: Session, witness: Mapping[str, Any] | None = None
) -> tuple[float, float, dict[str, Any]]:
    """Exact cheapest and dearest price of the products extending the dialog's choices.

    `witness` holds the cheapest and dearest products of an earlier state; when
    the dialog only added technical choices those products agree with, they are
    still optimal (the set of products shrank around them) and no solve is needed.
    Returns (min, max, the witness of this state).
    """
    if dialog.is_complete:
        exact = price(cfg.model, dialog.product())
        return exact, exact, {}
    table = price_table(cfg.model)
    if not table:
        return cfg.model.base_price, cfg.model.base_price, {}
    hard = cfg.literals(dialog.choices)
    ends: dict[str, dict[str, Value]] = {}
    for side, costs in (("min", table), ("max", _negated(table))):
        known = _still_optimal(cfg, dialog.choices, witness or {}, side)
        ends[side] = known if known is not None else cfg.decode(minimise(cfg, hard, costs))
    new_witness = {"choices": dict(dialog.choices), **ends}
    return price(cfg.model, ends["min"]), price(cfg.model, ends["max"]), new_witness


def _negated(table: Costs) -> dict[str, dict[Value, float]]:
    return {var: {v: -a for v, a in amounts.items()} for var, amounts in table.items()}


def _still_optimal(
    cfg: Configurator, choices: Mapping[str, Value], witness: Mapping[str, Any], side: str
) -> dict[str, Value] | None:
    before: Mapping[str, Value] = witness.get("choices", {})
    product: dict[str, Value] | None = witness.get(side)
    if product is None or any(choices.get(k) != v for k, v in before.items()):
        return None
    added = {k: v for k, v in choices.items() if k not in before}
    if all(k in cfg.model.variable_map and product.get(k) == v for k, v in added.items()):
        return product
    return None


def record(row: Configuration, cfg: Configurator, dialog: Session) -> None:
    """Store the dialog's state (choices, domains, price range, status) on `row`."""
    state = dialog.state(with_price=False)
    row.choices = {k: {"value": c.value, "set_by": c.set_by} for k, c in state.choices.items()}
    row.domains = {k: list(v) for k, v in dialog.domains.items()}
    row.proposed = False
    row.price_min, row.price_max, row.price_witness = price_range(cfg, dialog, row.price_witness)
    row.status = (
        ConfigurationStatus.COMPLETE.value if state.complete else ConfigurationStatus.OPEN.value
    )


def record_completion(row: Configuration, dialog: Session, completion: Completion) -> None:
    """Store a completion proposed by the engine: every variable set, exact price."""
    choices = {k: {"value": v, "set_by": "user"} for k, v in dialog.choices.items()}
    choices.update(
        {k: {"value": c.value, "set_by": c.set_by} for k, c in completion.choices.items()}
    )
    row.choices = choices
    row.domains = {k: list(v) for k, v in dialog.domains.items()}
    row.proposed = True
    row.price_min = row.price_max = completion.price
    row.price_witness = {}
    row.status = ConfigurationStatus.COMPLETE.value


def user_choices(row: Configuration) -> dict[str, Value]:
    """The choices the user made (needs answered included): what a dialog resumes from."""
    return {k: c["value"] for k, c in row.choices.items() if c["set_by"] == "user"}


def shown_domains(row: Configuration) -> dict[str, list[Value]]:
    """Valid domains of every open question (a default leaves its variable open)."""
    keep_default = not row.proposed
    return {
        name: values
        for name, values in row.domains.items()
        if name not in row.choices or (keep_default and row.choices[name]["set_by"] == "default")
    }


def is_complete(row: Configuration) -> bool:
    return row.status in (ConfigurationStatus.COMPLETE, ConfigurationStatus.ORDERED)


def render(row: Configuration, version: int) -> dict[str, Any]:
    """The API state of a configuration, from its row alone."""
    price_block = None if row.price_min is None else {"min": row.price_min, "max": row.price_max}
    return {
        "id": row.id,
        "product_id": row.product_id,
        "version": version,
        "status": row.status,
        "choices": row.choices,
        "domains": shown_domains(row),
        "complete": is_complete(row),
        "price": price_block,
    }
