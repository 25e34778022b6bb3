"""Pydantic shapes of the configurator's use cases (what the API reads and writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, EmailStr, Field

JsonValue: TypeAlias = bool | int | float | str
"""A variable's value as JSON gives it (coerced to the domain: "750" -> 750)."""


class ProductCreated(BaseModel):
    id: int
    slug: str
    version: int
    created: bool = Field(description="False when the same source was already the latest version")


class ProductSummary(BaseModel):
    id: int
    slug: str
    name: str
    version: int
    format: str
    variable_count: int
    updated_at: datetime


class VariableRead(BaseModel):
    name: str
    label: str
    help: str
    domain: list[JsonValue]


class NeedOptionRead(BaseModel):
    value: str
    label: str
    help: str


class NeedRead(BaseModel):
    name: str
    label: str
    help: str
    options: list[NeedOptionRead]


class ProductDetail(BaseModel):
    id: int
    slug: str
    name: str
    label: str
    version: int
    versions: list[int]
    format: str
    base_price: float
    variables: list[VariableRead]
    needs: list[NeedRead]


class ConfigurationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: int | None = None
    product: str | None = Field(default=None, description="The product slug (instead of its id)")
    needs: dict[str, JsonValue] = Field(default_factory=dict)
    contact_email: EmailStr | None = None
    contact_id: int | None = None


class ChoicesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    set: dict[str, JsonValue] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    objective: Literal["min_price", "weighted"] = "min_price"
    weights: dict[str, dict[str, float]] | None = Field(
        default=None,
        description='For "weighted": variable -> value -> cost to minimise (missing = 0)',
    )


class ChoiceRead(BaseModel):
    value: JsonValue
    set_by: Literal["user", "default", "engine"]


class PriceRead(BaseModel):
    min: float
    max: float


class ConfigurationState(BaseModel):
    id: int
    product_id: int
    version: int
    status: str
    choices: dict[str, ChoiceRead]
    domains: dict[str, list[JsonValue]]
    complete: bool
    price: PriceRead | None


class ConflictItem(BaseModel):
    variable: str
    value: JsonValue


class ExplanationRead(BaseModel):
    variable: str | None
    value: JsonValue | None
    available: bool
    conflicts: list[ConflictItem]
    rules: list[str]
    retract: list[ConflictItem] = Field(
        description="A minimal set of choices to withdraw so that the value becomes available"
    )
    message: str


class BomLineRead(BaseModel):
    component: str
    name: str
    quantity: int
    unit_price: float
    price: float
    lead_time_days: int


class BomRead(BaseModel):
    configuration_id: int
    lines: list[BomLineRead]
    cost: float = Field(description="Sum of the lines' prices (component costs)")
    lead_time_days: int = Field(description="The longest lead time of any line")
    price: float = Field(description="The product's sale price (the configuration's price)")


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_email: EmailStr | None = Field(
        default=None, description="Overrides the configuration's contact email"
    )


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    configuration_id: int
    product_id: int
    version: int
    status: str
    product_values: dict[str, JsonValue]
    lines: list[BomLineRead]
    price: float
    cost: float
    lead_time_days: int
    contact_email: str | None
    contact_id: int | None
    created_at: datetime
