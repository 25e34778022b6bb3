"""Leads pushed by integrations: signatures, idempotency, normalisation, dedup, the log.

A webhook signs `timestamp.body` with its integration's secret
(HMAC-SHA256, `X-Campana-Signature: sha256=<hex>`); timestamps older or
newer than `MAX_SKEW` are refused so a captured request cannot be replayed
later. A request under an `Idempotency-Key` stores its first response: the
same key with the same body gets that response again, with another body 409.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.auth import Principal, Role, User
from core.clock import Clock
from core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    InvalidInputs,
    NotFound,
    Unauthenticated,
)
from core.events import publish
from core.pagination import PageParams, decode_cursor
from sfa import normalize
from sfa.events import LeadCreated
from sfa.lead_models import IdempotencyRecord, Integration, Lead, LeadIngestion
from sfa.models import Contact
from sfa.schemas import ConsentIn
from sfa.service import find_live_contact, set_consent
from sfa.timeline import add_timeline_entry
from sfa.visibility import owner_filter

MAX_SKEW = timedelta(minutes=5)


class LeadIn(BaseModel):
    """A lead as an integration sends it; at least an email or a phone."""

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    country: str | None = None
    language: str | None = Field(default=None, max_length=8)
    time_zone: str | None = None
    company: str | None = Field(default=None, max_length=300)
    source: str | None = Field(default=None, max_length=100)
    owner_email: str | None = None
    consents: list[ConsentIn] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)


class LeadResult(BaseModel):
    outcome: str
    lead_id: int | None = None
    contact_id: int | None = None
    reason: str | None = None
    errors: list[dict[str, str]] = Field(default_factory=list)


class LeadRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    contact_id: int
    owner_id: int | None
    source: str
    status: str
    company: str | None
    created_at: datetime


class IngestionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    received_at: datetime
    caller: str
    outcome: str
    reason: str | None
    email: str | None
    phone: str | None
    contact_id: int | None
    lead_id: int | None


def create_integration(
    session: Session, name: str, *, actor: Principal, clock: Clock
) -> tuple[Integration, str]:
    """A new integration and its shared secret (returned once, stored for verification)."""
    actor.require()
    if session.scalar(select(Integration.id).where(Integration.name == name)) is not None:
        raise Conflict(f"an integration named {name!r} exists", field="name")
    secret = secrets.token_urlsafe(32)
    integration = Integration(name=name, secret=secret, created_at=clock.now())
    session.add(integration)
    session.flush()
    return integration, secret


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value a sender computes: `sha256=<hex>` of `timestamp.body`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    session: Session, name: str, timestamp: str, signature: str, body: bytes, *, clock: Clock
) -> Integration:
    """The integration whose secret signed `timestamp.body`; anything else is Unauthenticated."""
    integration = session.scalar(
        select(Integration).where(Integration.name == name, Integration.active.is_(True))
    )
    if integration is None:
        raise Unauthenticated(f"unknown integration {name!r}")
    try:
        sent_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise Unauthenticated("X-Campana-Timestamp must be Unix seconds") from None
    if abs(clock.now() - sent_at) > MAX_SKEW:
        raise Unauthenticated("stale or future timestamp (more than 5 minutes off)")
    if not hmac.compare_digest(sign(integration.secret, timestamp, body), signature.strip()):
        raise Unauthenticated("bad signature")
    return integration


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def recall(session: Session, scope: str, key: str, digest: str) -> IdempotencyRecord | None:
    """The stored response for (scope, key); the same key with another body is a Conflict."""
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key
        )
    )
    if record is not None and record.body_hash != digest:
        raise Conflict("Idempotency-Key reused with a different body", field="Idempotency-Key")
    return record


def remember(
    session: Session,
    scope: str,
    key: str,
    digest: str,
    status_code: int,
    response: dict[str, Any],
    *,
    clock: Clock,
) -> None:
    session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            body_hash=digest,
            status_code=status_code,
            response=response,
            created_at=clock.now(),
        )
    )
    session.flush()


def log_rejection(
    session: Session, caller: str, error: DomainError, *, clock: Clock, raw: dict[str, Any]
) -> LeadResult:
    """Record a refused lead and say why (the caller answers 422 with this)."""
    errors = _errors_of(error)
    reason = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or error.message
    session.add(
        LeadIngestion(
            received_at=clock.now(),
            caller=caller,
            outcome="rejected",
            reason=reason[:500],
            email=str(raw.get("email"))[:320] if raw.get("email") else None,
            phone=str(raw.get("phone"))[:40] if raw.get("phone") else None,
        )
    )
    return LeadResult(outcome="rejected", reason=reason, errors=errors)


def _errors_of(error: DomainError) -> list[dict[str, str]]:
    if isinstance(error, InvalidInputs):
        return [{"field": e.field, "reason": e.reason} for e in error.errors]
    if isinstance(error, InvalidInput):
        return [{"field": error.field, "reason": error.reason}]
    return []


def _owner(session: Session, email: str | None) -> int | None:
    if email is None:
        return None
    owner = session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if owner is None:
        raise InvalidInput("owner_email", f"no user with email {email!r}")
    return owner


def ingest_lead(session: Session, data: LeadIn, *, caller: str, clock: Clock) -> LeadResult:
    """Normalise, de-duplicate and attach the lead; raises InvalidInput(s) on bad input."""
    country = normalize.country(data.country)
    errors: list[InvalidInput] = []
    email = phone = None
    try:
        email = normalize.email(data.email)
    except InvalidInput as exc:
        errors.append(exc)
    try:
        phone = normalize.phone(data.phone, country)
    except InvalidInput as exc:
        errors.append(exc)
    if errors:
        raise InvalidInputs(errors)
    if email is None and phone is None:
        raise InvalidInput("email", "a lead needs an email or a phone")
    owner = _owner(session, data.owner_email)
    now = clock.now()
    contact = find_live_contact(session, email, phone)
    duplicate = contact is not None
    if contact is None:
        contact, duplicate = _new_or_live_contact(
            session, data, email, phone, country, owner, caller, now
        )
    lead = Lead(
        contact_id=contact.id,
        owner_id=owner if owner is not None else contact.owner_id,
        source=data.source or caller,
        company=data.company,
        payload=data.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
    )
    session.add(lead)
    session.flush()
    for consent in data.consents:
        set_consent(session, contact, consent, clock=clock)
    outcome = "duplicate" if duplicate else "created"
    session.add(
        LeadIngestion(
            received_at=now,
            caller=caller,
            outcome=outcome,
            email=email,
            phone=phone,
            contact_id=contact.id,
            lead_id=lead.id,
        )
    )
    add_timeline_entry(
        session,
        contact.id,
        "lead.received",
        f"Lead from {lead.source}",
        module="sfa",
        ref=f"lead:{lead.id}",
        occurred_at=now,
    )
    publish(session, LeadCreated(lead.id, contact.id, lead.source, duplicate))
    return LeadResult(outcome=outcome, lead_id=lead.id, contact_id=contact.id)


def _new_or_live_contact(
    session: Session,
    data: LeadIn,
    email: str | None,
    phone: str | None,
    country: str | None,
    owner: int | None,
    caller: str,
    now: datetime,
) -> tuple[Contact, bool]:
    """A new contact, or the live one a concurrent transaction committed since the lookup.

    The insert runs in a SAVEPOINT: when the live-email/phone unique index refuses it,
    only the savepoint is rolled back and the lead takes the duplicate path.
    """
    try:
        with session.begin_nested():
            return _new_contact(session, data, email, phone, country, owner, caller, now), False
    except IntegrityError:
        contact = find_live_contact(session, email, phone)
        if contact is None:
            raise
        return contact, True


def _new_contact(
    session: Session,
    data: LeadIn,
    email: str | None,
    phone: str | None,
    country: str | None,
    owner: int | None,
    caller: str,
    now: datetime,
) -> Contact:
    contact = Contact(
        first_name=data.first_name,
        last_name=data.last_name,
        email=email,
        phone=phone,
        country=country,
        language=data.language,
        time_zone=normalize.time_zone(data.time_zone),
        attributes=data.attributes,
        source=data.source or caller,
        owner_id=owner,
        created_at=now,
        updated_at=now,
    )
    session.add(contact)
    session.flush()
    return contact


def list_leads(session: Session, page: PageParams, *, actor: Principal) -> list[Lead]:
    query = select(Lead).where(owner_filter(actor, Lead.owner_id))
    after = decode_cursor(page.cursor)
    if after is not None:
        query = query.where(Lead.id > int(after))
    return list(session.scalars(query.order_by(Lead.id).limit(page.limit)))


def list_ingestions(session: Session, page: PageParams, *, actor: Principal) -> list[LeadIngestion]:
    """The ingestion log, newest first (admins and integrations)."""
    actor.require(Role.INTEGRATION)
    query = select(LeadIngestion)
    after = decode_cursor(page.cursor)
    if after is not None:
        query = query.where(LeadIngestion.id < int(after))
    return list(session.scalars(query.order_by(LeadIngestion.id.desc()).limit(page.limit)))


LEAD_STATUSES = ("open", "qualified", "converted", "disqualified")


def update_lead_status(
    session: Session, lead_id: int, status: str, *, actor: Principal, clock: Clock
) -> Lead:
    """Qualify, convert or disqualify a lead (only open leads get reactivation tasks)."""
    if status not in LEAD_STATUSES:
        raise InvalidInput("status", f"one of {', '.join(LEAD_STATUSES)}")
    lead = session.scalar(
        select(Lead).where(Lead.id == lead_id, owner_filter(actor, Lead.owner_id))
    )
    if lead is None:
        raise NotFound("lead", lead_id)
    lead.status, lead.updated_at = status, clock.now()
    add_timeline_entry(
        session,
        lead.contact_id,
        f"lead.{status}",
        f"Lead from {lead.source} {status}",
        module="sfa",
        ref=f"lead:{lead.id}",
        occurred_at=lead.updated_at,
    )
    return lead
