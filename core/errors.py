"""Domain errors: what went wrong in the language of the use case, never HTTP.

`api/errors.py` maps each class to a status code and a problem+json body.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} not found", entity=entity, key=str(key))
        self.entity = entity
        self.key = key


class Conflict(DomainError):
    """The request is well formed but clashes with the current state."""

    def __init__(self, reason: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(reason, **details)
        self.reason = reason
        self.field = field


class InvalidInput(DomainError):
    """A value is wrong: names the field (a dotted path) and the reason."""

    def __init__(self, field: str, reason: str, **details: Any) -> None:
        super().__init__(f"{field}: {reason}", **details)
        self.field = field
        self.reason = reason


class InvalidInputs(DomainError):
    """Several fields are wrong at once; each error names its field and reason."""

    def __init__(self, errors: list[InvalidInput]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError):
    """The caller could not be identified (missing, unknown or revoked key)."""
