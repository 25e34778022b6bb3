"""Normalising what people type: emails lowercased and validated, phones to E.164."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from core.errors import InvalidInput
from sfa.models import Channel


def email(value: str | None, field: str = "email") -> str | None:
    """The email lowercased and syntax-checked (no DNS lookup), or None when blank."""
    if value is None or not value.strip():
        return None
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(field, str(exc)) from None
    return checked.normalized.lower()


def phone(value: str | None, country: str | None, field: str = "phone") -> str | None:
    """The phone in E.164, read in `country`'s numbering plan when it has no +prefix."""
    if value is None or not value.strip():
        return None
    try:
        parsed = phonenumbers.parse(value, (country or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(field, f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(field, f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def country(value: str | None, field: str = "country") -> str | None:
    if value is None or not value.strip():
        return None
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise InvalidInput(field, "must be an ISO 3166 alpha-2 code like 'PT'")
    return code


def time_zone(value: str | None, field: str = "time_zone") -> str:
    if value is None or not value.strip():
        return "UTC"
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(field, f"unknown time zone {value!r}") from None
    return value.strip()


def channel(value: str | None, field: str = "preferred_channel") -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return Channel(value.strip().lower()).value
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        raise InvalidInput(field, f"unknown channel {value!r}; one of {allowed}") from None
