"""Configurator errors: each names the field (a variable or a choice) and the reason."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import InvalidInput

if TYPE_CHECKING:
    from configurator.explain import Explanation


class ChoiceUnavailable(InvalidInput):
    """A value that is in the domain but leads to no valid product; carries the reason."""

    def __init__(self, field: str, explanation: Explanation) -> None:
        super().__init__(field, explanation.message, explanation=explanation.as_dict())
        self.explanation = explanation


class ChoicesInconsistent(InvalidInput):
    """A set of choices that together admit no product; carries a minimal conflict."""

    def __init__(self, explanation: Explanation) -> None:
        super().__init__("choices", explanation.message, explanation=explanation.as_dict())
        self.explanation = explanation
