"""The rule language: parsing, evaluation, and clear errors that name the position."""

from __future__ import annotations

import pytest

from configurator.expression import Binary, Name, evaluate, names, parse
from core.errors import InvalidInput

DOMAINS: dict[str, tuple[str | int | bool, ...]] = {
    "gpu": ("none", "rtx4060", "rtx4080"),
    "psu_w": (450, 650, 750, 1000),
    "wifi": (False, True),
    "fans": (1, 2, 3),
    "Intel Core i5": (False, True),
}


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ('gpu == "rtx4080" implies psu_w >= 750', {"gpu": "rtx4080", "psu_w": 650}, False),
        ('gpu == "rtx4080" implies psu_w >= 750', {"gpu": "rtx4060", "psu_w": 450}, True),
        ("wifi iff fans > 1", {"wifi": True, "fans": 2}, True),
        ("not wifi or fans == 3", {"wifi": True, "fans": 2}, False),
        ('gpu in ["rtx4060", "rtx4080"] and gpu not in ["none"]', {"gpu": "rtx4060"}, True),
        ("sum(fans, fans * 2) - 1 == 8", {"fans": 3}, True),
        (
            "count(wifi, fans >= 2, psu_w > 2000) == 2",
            {"wifi": True, "fans": 2, "psu_w": 450},
            True,
        ),
        ("abs(-fans) + -1 == 2", {"fans": 3}, True),
        ("`Intel Core i5` implies wifi", {"Intel Core i5": True, "wifi": False}, False),
        ("a implies b implies c", {"a": True, "b": True, "c": False}, False),
    ],
)
def test_evaluates(text: str, env: dict[str, str | int | bool], expected: bool) -> None:
    assert evaluate(parse(text), env) is expected or evaluate(parse(text), env) == expected


def test_precedence_and_binds_tighter_than_or_and_implies_is_right_associative() -> None:
    node = parse("a or b and c implies d implies e")
    assert isinstance(node, Binary)
    assert node.op == "implies"
    assert isinstance(node.right, Binary)
    assert node.right.op == "implies"
    assert isinstance(node.left, Binary)
    assert node.left.op == "or"
    assert names(node) == {"a", "b", "c", "d", "e"}
    assert node.left.left == Name("a", 0)


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ('__import__("os").system("id")', "position 0", "unknown function '__import__'"),
        ('(gpu == "none"', "position 14", "expected ')'"),
        ("gpu == ", "position 7", "expected a value"),
        ("psu_w >= 750 and", "position 16", "expected a value"),
        ("psu_w ; 3", "position 6", "unexpected character ';'"),
        ("psu_w >= 750)", "position 12", "unexpected ')'"),
        ("cpu == 3", "position 0", "unknown variable 'cpu'"),
        ('gpu == "rtx9999"', "position 7", "'rtx9999' is not a value of 'gpu'"),
        ("psu_w in [450, 9]", "position 6", "9 is not a value of 'psu_w'"),
        ("gpu in [psu_w]", "position 8", "literal values only"),
        ("eval(gpu)", "position 0", "unknown function 'eval'"),
        ("gpu.__class__ == 1", "position 0", "unknown variable 'gpu.__class__'"),
    ],
)
def test_rejects_with_position(text: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(text, DOMAINS)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_ordering_strings_against_numbers_is_an_error() -> None:
    with pytest.raises(InvalidInput, match="cannot compare"):
        evaluate(parse("gpu < 3"), {"gpu": "none"})
