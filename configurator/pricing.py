"""Prices and bills of materials of complete products (no solver involved).

The price is linear: `base_price` plus the `PriceRule` amount of every chosen
(variable, value). The BOM expands the super-BOM: each line whose condition
holds contributes `quantity` units of its component; component prices are
costs and lead times give the product's lead time (the longest line).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from configurator.expression import Value, evaluate
from configurator.model import ProductModel
from core.errors import InvalidInput


@dataclass(frozen=True)
class BomItem:
    """One resolved bill-of-materials line."""

    component: str
    name: str
    quantity: int
    unit_cost: float
    lead_time_days: int

    @property
    def cost(self) -> float:
        return self.quantity * self.unit_cost


@dataclass(frozen=True)
class Bom:
    """A resolved bill of materials."""

    items: tuple[BomItem, ...]

    @property
    def cost(self) -> float:
        return round(sum(i.cost for i in self.items), 2)

    @property
    def lead_time_days(self) -> int:
        return max((i.lead_time_days for i in self.items), default=0)


def price_table(model: ProductModel) -> dict[str, dict[Value, float]]:
    """variable -> value -> amount (computed once per model)."""
    return model.price_amounts


def price(model: ProductModel, product: Mapping[str, Value]) -> float:
    """Exact price of a complete product."""
    _require_complete(model, product)
    table = model.price_amounts
    total = model.base_price + sum(
        table.get(var, {}).get(value, 0.0) for var, value in product.items()
    )
    return round(total, 2)


def bill_of_materials(model: ProductModel, product: Mapping[str, Value]) -> Bom:
    """The BOM of a complete product: conditional lines with their quantities."""
    _require_complete(model, product)
    components = {c.id: c for c in model.components}
    items: list[BomItem] = []
    for i, line in enumerate(model.bom):
        if line.condition is not None and not evaluate(line.condition, product):
            continue
        quantity = evaluate(line.quantity, product)
        if isinstance(quantity, str) or quantity != int(quantity) or quantity < 0:
            raise InvalidInput(f"bom[{i}].quantity", f"{quantity!r} is not a whole quantity")
        if quantity:
            part = components[line.component]
            items.append(
                BomItem(part.id, part.name, int(quantity), part.price, part.lead_time_days)
            )
    return Bom(tuple(items))


def _require_complete(model: ProductModel, product: Mapping[str, Value]) -> None:
    missing = [v.name for v in model.variables if v.name not in product]
    if missing:
        raise InvalidInput(f"choices.{missing[0]}", "the product is not complete")
