"""Configuration dialogs through the service: state, choices, explanations, completion, BOM.

Bad inputs tried: an unavailable value (conflict with explanation), an unknown
variable, a value outside the variable's domain, an unknown need, a bad need
answer, a variable both set and unset, an unknown product, weights without the
weighted objective, a BOM of an incomplete configuration.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from configurator import service
from configurator.engine import Configurator
from configurator.events import (
    ConfigurationAbandoned,
    ConfigurationCompleted,
    ConfigurationOrdered,
)
from configurator.formats.native import load_native
from configurator.model import violations
from configurator.optimise import price_range as engine_price_range
from configurator.schemas import (
    ChoicesUpdate,
    CompleteRequest,
    ConfigurationCreate,
    ConfigurationState,
    OrderCreate,
)
from core.auth import SYSTEM
from core.clock import FrozenClock
from core.errors import Conflict, InvalidInput, InvalidInputs, NotFound
from core.events import Event, EventBus
from tests.configurator.service_builders import ebike_source, import_ebike, start


def choose(
    session: Session, clock: FrozenClock, cid: int, unset: list[str] | None = None, **values: object
) -> ConfigurationState:
    data = ChoicesUpdate.model_validate({"set": values, "unset": unset or []})
    return service.set_choices(session, cid, data, actor=SYSTEM, clock=clock)


@pytest.fixture
def events(bus: EventBus) -> list[Event]:
    seen: list[Event] = []
    bus.subscribe(ConfigurationCompleted, lambda _s, e: seen.append(e))
    bus.subscribe(ConfigurationAbandoned, lambda _s, e: seen.append(e))
    return seen


@pytest.fixture
def ebike(session: Session, clock: FrozenClock) -> int:
    return import_ebike(session, clock).id


def test_needs_become_technical_choices_set_by_the_engine(
    session: Session, clock: FrozenClock, ebike: int
) -> None:
    state = start(session, clock, usage="offroad", budget="economy")
    assert state.choices["usage"].set_by == "user"
    assert state.choices["frame"].value == "mtb"
    assert state.choices["frame"].set_by == "engine"
    assert state.choices["color"].set_by == "default"
    assert "frame" not in state.domains
    assert "color" in state.domains  # a default leaves its variable open
    assert state.price is not None
    assert state.price.min <= state.price.max
    assert state.complete is False
    assert service.get_configuration(session, state.id) == state


def test_unavailable_value_is_a_conflict_carrying_a_minimal_explanation(
    session: Session, clock: FrozenClock, ebike: int
) -> None:
    state = start(session, clock, usage="offroad")
    with pytest.raises(service.ChoiceConflict) as caught:
        choose(session, clock, state.id, frame="city")
    error = caught.value
    assert error.field == "set.frame"
    assert error.details["conflicts"] == [{"variable": "usage", "value": "offroad"}]
    assert error.details["rules"]
    assert error.details["retract"] == [{"variable": "usage", "value": "offroad"}]
    assert service.get_configuration(session, state.id) == state


def test_unknown_variable_or_value_outside_the_domain_is_invalid_input(
    session: Session, clock: FrozenClock, ebike: int
) -> None:
    state = start(session, clock)
    with pytest.raises(InvalidInput) as caught:
        choose(session, clock, state.id, wheels=3)
    assert caught.value.field == "set.wheels"
    with pytest.raises(InvalidInput) as caught:
        choose(session, clock, state.id, frame="bmx")
    assert caught.value.field == "set.frame"
    with pytest.raises(InvalidInput) as caught:
        choose(session, clock, state.id, unset=["frame"], frame="city")
    assert caught.value.field == "set.frame"
    with pytest.raises(InvalidInputs) as many:
        choose(session, clock, state.id, unset=["nope"], battery_wh=999)
    assert {e.field for e in many.value.errors} == {"unset.nope", "set.battery_wh"}


def test_needs_are_checked_at_start(session: Session, clock: FrozenClock, ebike: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        start(session, clock, mood="happy")
    assert caught.value.field == "needs.mood"
    with pytest.raises(InvalidInput) as caught:
        start(session, clock, usage="flying")
    assert caught.value.field == "needs.usage"
    with pytest.raises(NotFound):
        start(session, clock, product="unicycle")
    with pytest.raises(InvalidInput) as caught:
        service.start_configuration(session, ConfigurationCreate(), actor=SYSTEM, clock=clock)
    assert caught.value.field == "product_id"


def test_values_are_coerced_and_unset_brings_values_back(
    session: Session, clock: FrozenClock, ebike: int
) -> None:
    state = start(session, clock)
    after = choose(session, clock, state.id, battery_wh="750", range_extender="true")
    assert after.choices["battery_wh"].value == 750
    assert after.choices["range_extender"].value is True
    assert "city" not in after.domains["frame"]
    back = choose(session, clock, state.id, unset=["range_extender", "battery_wh"])
    assert back.domains["frame"] == ["city", "trekking", "mtb"]
    assert "battery_wh" not in back.choices


def test_explain_names_the_conflicting_choices_and_an_available_value(
    session: Session, clock: FrozenClock, ebike: int
) -> None:
    state = start(session, clock, budget="economy")
    out = service.explain_value(session, state.id, "motor", "mid_speed")
    assert out.available is False
    assert [(c.variable, c.value) for c in out.conflicts] == [("budget", "economy")]
    assert out.rules
    fine = service.explain_value(session, state.id, "color", "white")
    assert fine.available is True
    assert fine.conflicts == []
    with pytest.raises(InvalidInput) as caught:
        service.explain_value(session, state.id, "colour", "white")
    assert caught.value.field == "variable"
    with pytest.raises(InvalidInput) as caught:
        service.explain_value(session, state.id, "color", "pink")
    assert caught.value.field == "value"


def test_complete_gives_the_cheapest_valid_product_and_its_bom(
    session: Session, clock: FrozenClock, ebike: int, events: list[Event]
) -> None:
    state = start(session, clock, usage="commute")
    with pytest.raises(Conflict):
        service.bill_of_materials(session, state.id)
    done = service.complete_configuration(
        session, state.id, CompleteRequest(), actor=SYSTEM, clock=clock
    )
    model = load_native(ebike_source())
    product = {k: c.value for k, c in done.choices.items()}
    assert done.complete is True
    assert set(model.domains) <= set(product)
    assert violations(model, product) == []
    assert done.choices["usage"].set_by == "user"
    assert done.price is not None
    assert state.price is not None
    # defaults are soft choices kept when consistent, so the cheapest completion may cost
    # more than the cheapest product (gears=hub_8 by default rules out the hub motor)
    assert state.price.min <= done.price.min == done.price.max <= state.price.max
    bom = service.bill_of_materials(session, state.id)
    assert bom.price == done.price.min
    assert bom.cost == round(sum(line.price for line in bom.lines), 2)
    assert {line.component for line in bom.lines} >= {"FRAME", "FENDER", "LIGHT-SET"}
    assert [type(e) for e in events] == [ConfigurationCompleted]


def test_weighted_objective_and_its_checks(
    session: Session, clock: FrozenClock, ebike: int
) -> None:
    state = start(session, clock)
    weights = {"color": {"black": 5, "white": 0, "petrol": 5}, "frame": {"city": 9}}
    done = service.complete_configuration(
        session,
        state.id,
        CompleteRequest(objective="weighted", weights=weights),
        actor=SYSTEM,
        clock=clock,
    )
    assert done.choices["frame"].value != "city"
    with pytest.raises(InvalidInput) as caught:
        service.complete_configuration(
            session, state.id, CompleteRequest(weights=weights), actor=SYSTEM, clock=clock
        )
    assert caught.value.field == "weights"
    with pytest.raises(InvalidInput) as caught:
        service.complete_configuration(
            session,
            state.id,
            CompleteRequest(objective="weighted", weights={"frame": {"bmx": 1}}),
            actor=SYSTEM,
            clock=clock,
        )
    assert caught.value.field == "weights.frame.bmx"


def test_a_change_after_completion_reopens_the_dialog(
    session: Session, clock: FrozenClock, ebike: int
) -> None:
    state = start(session, clock)
    service.complete_configuration(session, state.id, CompleteRequest(), actor=SYSTEM, clock=clock)
    reopened = choose(session, clock, state.id, color="petrol")
    assert reopened.complete is False
    assert reopened.status == "open"
    assert reopened.choices["color"].set_by == "user"
    assert "frame" in reopened.domains


def test_idle_open_configurations_are_abandoned_once_with_an_event(
    session: Session, clock: FrozenClock, ebike: int, events: list[Event]
) -> None:
    idle = start(session, clock)
    done = start(session, clock)
    service.complete_configuration(session, done.id, CompleteRequest(), actor=SYSTEM, clock=clock)
    events.clear()
    clock.advance(timedelta(hours=23))
    fresh = start(session, clock)
    clock.advance(timedelta(hours=2))
    assert service.mark_abandoned(session, idle=timedelta(hours=24), clock=clock) == 1
    assert service.mark_abandoned(session, idle=timedelta(hours=24), clock=clock) == 0
    assert [e.configuration_id for e in events] == [idle.id]  # type: ignore[attr-defined]
    assert service.get_configuration(session, idle.id).status == "abandoned"
    assert service.get_configuration(session, fresh.id).status == "open"
    resumed = choose(session, clock, idle.id, color="white")
    assert resumed.status == "open"


def test_price_range_stays_exact_along_a_dialog_with_unsets(
    session: Session, clock: FrozenClock, ebike: int
) -> None:
    cfg = Configurator(load_native(ebike_source()))
    state = start(session, clock)
    rng = random.Random(3)
    for step in range(12):
        users = [k for k, c in state.choices.items() if c.set_by == "user"]
        if step % 4 == 3 and users:
            state = choose(session, clock, state.id, unset=[rng.choice(users)])
        else:
            name = rng.choice(sorted(k for k, v in state.domains.items() if len(v) > 1))
            data = ChoicesUpdate(set={name: rng.choice(state.domains[name])})
            state = service.set_choices(session, state.id, data, actor=SYSTEM, clock=clock)
        choices = {k: c.value for k, c in state.choices.items() if c.set_by == "user"}
        expected = engine_price_range(cfg, choices)
        assert state.price is not None
        assert (state.price.min, state.price.max) == (expected.min, expected.max)
        if state.complete:
            break


def test_order_snapshots_a_complete_configuration_once_and_freezes_it(
    session: Session, clock: FrozenClock, ebike: int, bus: EventBus
) -> None:
    ordered: list[ConfigurationOrdered] = []
    bus.subscribe(ConfigurationOrdered, lambda _s, e: ordered.append(e))
    state = start(session, clock, usage="touring")
    with pytest.raises(Conflict):
        service.place_order(session, state.id, OrderCreate(), actor=SYSTEM, clock=clock)
    done = service.complete_configuration(
        session, state.id, CompleteRequest(), actor=SYSTEM, clock=clock
    )
    order, created = service.place_order(
        session, state.id, OrderCreate(contact_email="ana@x.io"), actor=SYSTEM, clock=clock
    )
    again, created_again = service.place_order(
        session, state.id, OrderCreate(), actor=SYSTEM, clock=clock
    )
    assert (created, created_again) == (True, False)
    assert again == order == service.get_order(session, state.id)
    assert done.price is not None
    assert order.price == done.price.min
    assert order.product_values["usage"] == "touring"
    assert order.cost == service.bill_of_materials(session, state.id).cost
    assert [(e.order_id, e.contact_email) for e in ordered] == [(order.id, "ana@x.io")]
    assert service.get_configuration(session, state.id).status == "ordered"
    with pytest.raises(Conflict):
        choose(session, clock, state.id, color="white")
    with pytest.raises(Conflict):
        service.complete_configuration(
            session, state.id, CompleteRequest(), actor=SYSTEM, clock=clock
        )
    clock.advance(timedelta(days=3))
    assert service.mark_abandoned(session, idle=timedelta(hours=24), clock=clock) == 0
    with pytest.raises(NotFound):
        service.get_order(session, 999_999)
