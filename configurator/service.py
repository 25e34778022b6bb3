"""Configurator use cases: products (re-exported from `catalog`) and configuration dialogs.

A configuration keeps the product version it started on. Each change rebuilds
the dialog from the stored user choices and valid domains (no solving),
applies it on the version's cached `Configurator`, and stores the new state;
reads render the stored state without the solver. A value outside the valid
domain is a `ChoiceConflict` (409) carrying a minimal explanation; an unknown
variable or a value outside the variable's domain is an `InvalidInput` (422)
naming the field (`set.VAR`, `needs.NEED`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from configurator.catalog import (
    configurator_for,
    find_product,
    get_product,
    import_product,
    latest_version,
    list_products,
)
from configurator.engine import Configurator
from configurator.errors import ChoiceUnavailable
from configurator.events import ConfigurationCompleted
from configurator.explain import Explanation
from configurator.expression import Value
from configurator.lifecycle import (
    bill_of_materials,
    get_order,
    load_configuration,
    mark_abandoned,
    place_order,
)
from configurator.models import Configuration, ConfigurationStatus, Product, ProductVersion
from configurator.schemas import (
    ChoicesUpdate,
    CompleteRequest,
    ConfigurationCreate,
    ConfigurationState,
    ConflictItem,
    ExplanationRead,
    JsonValue,
)
from configurator.session import Session as Dialog
from configurator.state import is_complete, record, record_completion, render, user_choices
from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, InvalidInput, InvalidInputs
from core.events import publish

__all__ = [
    "ChoiceConflict",
    "bill_of_materials",
    "complete_configuration",
    "explain_value",
    "get_configuration",
    "get_order",
    "get_product",
    "import_product",
    "list_products",
    "mark_abandoned",
    "place_order",
    "set_choices",
    "start_configuration",
]


class ChoiceConflict(Conflict):
    """A value that is in the domain but leads to no valid product, with the explanation."""

    def __init__(self, field: str, explanation: Explanation) -> None:
        super().__init__(explanation.message, field=field, **explanation_body(explanation))
        self.explanation = explanation


def explanation_body(explanation: Explanation) -> dict[str, object]:
    """`{"conflicts": [{"variable", "value"}], "rules": [...], "retract": [...]}`."""
    return {
        "variable": explanation.variable,
        "value": explanation.value,
        "available": explanation.available,
        "conflicts": [{"variable": k, "value": v} for k, v in explanation.conflict.items()],
        "rules": list(explanation.rules),
        "retract": [{"variable": k, "value": v} for k, v in explanation.retract.items()],
    }


def start_configuration(
    session: Session, data: ConfigurationCreate, *, actor: Principal, clock: Clock
) -> ConfigurationState:
    """Open a configuration on the product's latest version, answering the given needs."""
    product = find_product(session, data.product_id, data.product)
    version = latest_version(session, product)
    cfg = configurator_for(product, version)
    answers = _check_needs(cfg, data.needs)
    dialog = Dialog(cfg)
    _apply(dialog, answers, "needs")
    now = clock.now()
    row = Configuration(
        product_id=product.id,
        version_id=version.id,
        needs=dict(answers),
        contact_email=data.contact_email,
        contact_id=data.contact_id,
        created_by_key_id=actor.key_id,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    record(row, cfg, dialog)
    session.add(row)
    session.flush()
    _after_change(session, row, product, version, was_complete=False, clock=clock)
    return _state(row, version)


def get_configuration(session: Session, configuration_id: int) -> ConfigurationState:
    row, _, version = load_configuration(session, configuration_id, lock=False)
    return _state(row, version)


def set_choices(
    session: Session,
    configuration_id: int,
    data: ChoicesUpdate,
    *,
    actor: Principal,
    clock: Clock,
) -> ConfigurationState:
    """Withdraw `data.unset`, then set `data.set` in order; all or nothing."""
    del actor  # any authenticated caller may drive a dialog (see docs/api/configurator.md)
    row, product, version = load_configuration(session, configuration_id, lock=True)
    _require_changeable(row)
    cfg = configurator_for(product, version)
    values = _check_set(cfg, data)
    dialog = _dialog(cfg, row)
    if data.unset:
        for name in data.unset[:-1]:
            dialog.choices.pop(name, None)
        dialog.unset(data.unset[-1])
    _apply(dialog, values, "set")
    was_complete = is_complete(row)
    record(row, cfg, dialog)
    _touch(row, clock)
    _after_change(session, row, product, version, was_complete=was_complete, clock=clock)
    return _state(row, version)


def explain_value(
    session: Session, configuration_id: int, variable: str, value: str
) -> ExplanationRead:
    """Why `variable=value` is unavailable now, and which choices to withdraw to get it."""
    row, product, version = load_configuration(session, configuration_id, lock=False)
    cfg = configurator_for(product, version)
    if variable not in cfg.questions:
        raise InvalidInput("variable", f"unknown variable or need {variable!r}")
    typed = _coerce(cfg, variable, value, "value")
    explanation = _dialog(cfg, row).explain(variable, typed)
    return ExplanationRead(
        variable=explanation.variable,
        value=explanation.value,
        available=explanation.available,
        conflicts=[ConflictItem(variable=k, value=v) for k, v in explanation.conflict.items()],
        rules=list(explanation.rules),
        retract=[ConflictItem(variable=k, value=v) for k, v in explanation.retract.items()],
        message=explanation.message,
    )


def complete_configuration(
    session: Session,
    configuration_id: int,
    data: CompleteRequest,
    *,
    actor: Principal,
    clock: Clock,
) -> ConfigurationState:
    """Let the engine set every open variable: cheapest, or best by the weighted objective."""
    del actor
    row, product, version = load_configuration(session, configuration_id, lock=True)
    _require_changeable(row)
    cfg = configurator_for(product, version)
    objective = _objective(cfg, data)
    dialog = _dialog(cfg, row)
    was_complete = is_complete(row)
    record_completion(row, dialog, dialog.complete(objective))
    _touch(row, clock)
    _after_change(session, row, product, version, was_complete=was_complete, clock=clock)
    return _state(row, version)


def _require_changeable(row: Configuration) -> None:
    if row.status == ConfigurationStatus.ORDERED:
        raise Conflict("the configuration was ordered and can no longer change", field="status")


def _dialog(cfg: Configurator, row: Configuration) -> Dialog:
    return Dialog(cfg, user_choices(row), row.domains)


def _check_needs(cfg: Configurator, needs: Mapping[str, JsonValue]) -> dict[str, Value]:
    errors: list[InvalidInput] = []
    answers: dict[str, Value] = {}
    for name, raw in needs.items():
        if name not in cfg.needs:
            errors.append(InvalidInput(f"needs.{name}", "unknown need"))
            continue
        try:
            answers[name] = _coerce(cfg, name, raw, f"needs.{name}")
        except InvalidInput as exc:
            errors.append(exc)
    _raise_all(errors)
    return answers


def _check_set(cfg: Configurator, data: ChoicesUpdate) -> dict[str, Value]:
    errors: list[InvalidInput] = [
        InvalidInput(f"unset.{name}", "unknown variable or need")
        for name in data.unset
        if name not in cfg.questions
    ]
    values: dict[str, Value] = {}
    for name, raw in data.set.items():
        if name in data.unset:
            errors.append(InvalidInput(f"set.{name}", "both set and unset in one request"))
            continue
        try:
            values[name] = _coerce(cfg, name, raw, f"set.{name}")
        except InvalidInput as exc:
            errors.append(exc)
    _raise_all(errors)
    return values


def _raise_all(errors: list[InvalidInput]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InvalidInputs(errors)


def _coerce(cfg: Configurator, name: str, raw: object, field: str) -> Value:
    try:
        return cfg.normalize({name: raw})[name]
    except InvalidInput as exc:
        raise InvalidInput(field, exc.reason) from None


def _apply(dialog: Dialog, values: Mapping[str, Value], where: str) -> None:
    for name, value in values.items():
        try:
            dialog.choose(name, value)
        except ChoiceUnavailable as exc:
            raise ChoiceConflict(f"{where}.{name}", exc.explanation) from None


def _objective(cfg: Configurator, data: CompleteRequest) -> dict[str, dict[Value, float]] | None:
    if data.objective == "min_price":
        if data.weights:
            raise InvalidInput("weights", 'only with "objective": "weighted"')
        return None
    if not data.weights:
        raise InvalidInput("weights", 'required with "objective": "weighted"')
    errors: list[InvalidInput] = []
    objective: dict[str, dict[Value, float]] = {}
    for name, costs in data.weights.items():
        if name not in cfg.variables:
            errors.append(InvalidInput(f"weights.{name}", "unknown variable"))
            continue
        for raw, cost in costs.items():
            try:
                value = _coerce(cfg, name, raw, f"weights.{name}.{raw}")
            except InvalidInput as exc:
                errors.append(exc)
                continue
            objective.setdefault(name, {})[value] = cost
    _raise_all(errors)
    return objective


def _touch(row: Configuration, clock: Clock) -> None:
    now = clock.now()
    row.updated_at = now
    row.last_activity_at = now
    row.abandoned_at = None


def _after_change(
    session: Session,
    row: Configuration,
    product: Product,
    version: ProductVersion,
    *,
    was_complete: bool,
    clock: Clock,
) -> None:
    if was_complete or not is_complete(row):
        if not is_complete(row):
            row.completed_at = None
        return
    row.completed_at = clock.now()
    session.flush()
    publish(
        session,
        ConfigurationCompleted(
            configuration_id=row.id,
            product_id=product.id,
            product_slug=product.slug,
            version=version.version,
            price=row.price_min or 0.0,
            contact_id=row.contact_id,
            contact_email=row.contact_email,
        ),
    )


def _state(row: Configuration, version: ProductVersion) -> ConfigurationState:
    return ConfigurationState.model_validate(render(row, version.version))
