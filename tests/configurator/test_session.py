"""Sessions: choices, needs, provenance, unavailable values and completeness."""

from __future__ import annotations

from pathlib import Path

import pytest

from configurator.engine import Configurator
from configurator.errors import ChoiceUnavailable
from configurator.formats.native import load_native_file
from configurator.session import Session

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ebike() -> Configurator:
    return Configurator(load_native_file(ROOT / "configurator" / "demo" / "ebike.yaml"))


def test_answering_a_need_adds_its_technical_rules(ebike: Configurator) -> None:
    session = Session(ebike)
    assert "mtb" in session.domains["frame"]
    session.choose("usage", "commute")
    assert "mtb" not in session.domains["frame"]
    assert "none" not in session.domains["lights"]
    state = session.state()
    assert state.choices["usage"].set_by == "user"
    assert state.choices["fenders"].set_by == "engine"
    assert state.choices["fenders"].value is True
    assert state.domains["tyres"] == ["city_42", "trekking_47"]
    assert "usage" not in state.domains


def test_an_unavailable_value_raises_with_its_explanation(ebike: Configurator) -> None:
    session = Session(ebike, {"usage": "offroad"})
    with pytest.raises(ChoiceUnavailable) as caught:
        session.choose("fenders", "true")
    explanation = caught.value.explanation
    assert explanation.conflict == {"usage": "offroad"}
    assert caught.value.field == "choices.fenders"
    assert caught.value.details["explanation"]["retract"] == {"usage": "offroad"}
    assert session.choices == {"usage": "offroad"}


def test_changing_and_unsetting_a_choice_restores_values(ebike: Configurator) -> None:
    session = Session(ebike)
    session.choose("frame", "city")
    assert "full" not in session.domains["suspension"]
    session.choose("frame", "mtb")
    assert session.choices["frame"] == "mtb"
    assert "full" in session.domains["suspension"]
    session.unset("frame")
    assert session.domains == Session(ebike).domains


def test_a_complete_configuration_has_an_exact_price_and_a_bom(ebike: Configurator) -> None:
    session = Session(ebike)
    for name in ebike.variables:
        if not session.is_complete and len(session.domains.get(name, [])) > 1:
            session.choose(name, session.domains[name][-1])
    state = session.state()
    assert state.complete
    assert state.price is not None
    assert state.price.min == state.price.max == session.complete().price
    assert session.bom().items
    assert {c.set_by for c in state.choices.values()} <= {"user", "engine", "default"}
    assert set(state.domains) <= set(ebike.needs)


def test_a_session_rebuilds_from_stored_choices_and_domains(ebike: Configurator) -> None:
    first = Session(ebike)
    first.choose("motor", "mid_speed")
    again = Session(ebike, dict(first.choices), first.domains)
    again.choose("frame", "trekking")
    assert again.domains == Session(ebike, {"motor": "mid_speed", "frame": "trekking"}).domains
