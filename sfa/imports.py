"""Bulk CSV import of contacts and opportunities: streamed, batched, bad rows reported.

Rows are read one at a time with the `csv` module over any text stream (an
upload, a file), validated, and inserted a batch at a time; `on_batch`
lets the caller commit and move a progress bar after each batch. Good rows
are kept; each bad row is reported by its line number and the reason.

Opportunity rows may carry their history in `stage_history`, as
`Stage@ISO-time|Stage@ISO-time|...` (oldest first): it becomes the
stage-change log that the analytics read.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from core.auth import Principal, User
from core.clock import Clock
from core.db import is_postgresql
from core.errors import DomainError, InvalidInput
from sfa import normalize
from sfa.models import LIVE, Account, Consent, Contact
from sfa.pipeline import stages_by_name
from sfa.pipeline_models import Opportunity, Stage, StageChange
from sfa.visibility import can_own, owner_filter

BATCH = 500
MAX_REPORTED = 1000
CONTACT_FIELDS = (
    "first_name", "last_name", "job_title", "language", "postal_address", "source",
)  # fmt: skip
CHANNELS = ("email", "sms", "phone", "web", "post")
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


class BadRow(BaseModel):
    line: int
    reason: str


class ImportReport(BaseModel):
    kind: str
    rows: int = 0
    imported: int = 0
    rejected: int = 0
    errors: list[BadRow] = Field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(BadRow(line=line, reason=reason))


Progress = Callable[[ImportReport], None]


def _rows(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(lines)
    for row in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        yield reader.line_num, clean


class _Owners:
    """Resolves `owner_email` to a user id the importer may assign, and `account` names."""

    def __init__(self, session: Session, actor: Principal) -> None:
        self._ids = {e: i for i, e in session.execute(select(User.id, User.email))}
        visible = select(Account.id, Account.name).where(
            Account.deleted_at.is_(None), owner_filter(actor, Account.owner_id)
        )
        self._accounts = {n.lower(): i for i, n in session.execute(visible)}
        self._session, self._actor = session, actor
        self._allowed: dict[int | None, bool] = {}

    def account(self, name: str) -> int | None:
        if not name:
            return None
        found = self._accounts.get(name.lower())
        if found is None:
            raise InvalidInput("account", f"no account named {name!r}")
        return found

    def resolve(self, email: str) -> int | None:
        owner = self._ids.get(email.lower()) if email else self._actor.user_id
        if email and owner is None:
            raise InvalidInput("owner_email", f"no user {email!r}")
        if owner not in self._allowed:
            self._allowed[owner] = can_own(self._session, self._actor, owner)
        if not self._allowed[owner]:
            raise InvalidInput("owner_email", f"you may not assign records to {email or owner}")
        return owner


def _reason(exc: DomainError) -> str:
    return exc.message


def import_contacts(
    session: Session,
    lines: Iterable[str],
    *,
    actor: Principal,
    clock: Clock,
    on_batch: Progress | None = None,
) -> ImportReport:
    """Import contacts; duplicates of live contacts or of earlier rows are bad rows."""
    report, owners = ImportReport(kind="contacts"), _Owners(session, actor)
    batch: list[tuple[int, dict[str, Any], dict[str, bool]]] = []
    seen: set[str] = set()
    for line, row in _rows(lines):
        report.rows += 1
        try:
            fields, consents = _contact_row(row, owners)
        except DomainError as exc:
            report.reject(line, _reason(exc))
            continue
        keys = {v for v in (fields["email"], fields["phone"]) if v}
        if keys & seen:
            report.reject(line, "duplicate of an earlier row (email or phone)")
            continue
        seen |= keys
        batch.append((line, fields, consents))
        if len(batch) >= BATCH:
            _flush_contacts(session, batch, report, clock)
            batch = []
            if on_batch is not None:
                on_batch(report)
    _flush_contacts(session, batch, report, clock)
    if on_batch is not None:
        on_batch(report)
    return report


def _contact_row(row: dict[str, str], owners: _Owners) -> tuple[dict[str, Any], dict[str, bool]]:
    country = normalize.country(row.get("country"))
    fields: dict[str, Any] = {f: row.get(f) or None for f in CONTACT_FIELDS}
    fields.update(
        email=normalize.email(row.get("email")),
        phone=normalize.phone(row.get("phone"), country),
        country=country,
        time_zone=normalize.time_zone(row.get("time_zone")),
        preferred_channel=normalize.channel(row.get("preferred_channel")),
        owner_id=owners.resolve(row.get("owner_email", "")),
        account_id=owners.account(row.get("account", "")),
    )
    if fields["email"] is None and fields["phone"] is None:
        raise InvalidInput("email", "a contact needs an email or a phone")
    consents = {}
    for channel in CHANNELS:
        value = row.get(f"consent_{channel}", "").lower()
        if value in YES | NO:
            consents[channel] = value in YES
        elif value:
            raise InvalidInput(f"consent_{channel}", f"expected yes or no, got {value!r}")
    return fields, consents


def _flush_contacts(
    session: Session,
    batch: list[tuple[int, dict[str, Any], dict[str, bool]]],
    report: ImportReport,
    clock: Clock,
) -> None:
    if not batch:
        return
    emails = [f["email"] for _, f, _ in batch if f["email"]]
    phones = [f["phone"] for _, f, _ in batch if f["phone"]]
    taken = set()
    for email, phone in session.execute(
        select(Contact.email, Contact.phone).where(
            LIVE, or_(Contact.email.in_(emails), Contact.phone.in_(phones))
        )
    ):
        taken |= {email, phone}
    now = clock.now()
    rows, consents = [], []
    for line, fields, wanted in batch:
        if {fields["email"], fields["phone"]} & (taken - {None}):
            report.reject(line, "a live contact already has this email or phone")
            continue
        rows.append(
            {**fields, "attributes": {}, "created_at": now, "updated_at": now, "version": 1}
        )
        consents.append(wanted)
    if not rows:
        return
    ids = _insert_ids(session, Contact, rows)
    consent_rows = [
        {"contact_id": i, "channel": ch, "granted": g, "source": "import", "recorded_at": now}
        for i, wanted in zip(ids, consents, strict=True)
        for ch, g in wanted.items()
    ]
    if consent_rows:
        session.execute(insert(Consent), consent_rows)
    report.imported += len(rows)


def _insert_ids(session: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` in one round trip; their new ids, in the order of `rows`.

    PostgreSQL orders RETURNING by a sentinel. SQLite cannot, but there the
    transaction holds the write lock and an INTEGER PRIMARY KEY is assigned
    ascending in VALUES order, so the sorted ids are the ids in row order.
    """
    if is_postgresql(session):
        returning = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(session.scalars(returning, rows))
    return sorted(session.scalars(insert(model).returning(model.id), rows).all())


_OppRow = tuple[int, dict[str, Any], list[tuple[int, datetime]], str | None]


def import_opportunities(
    session: Session,
    lines: Iterable[str],
    *,
    actor: Principal,
    clock: Clock,
    on_batch: Progress | None = None,
) -> ImportReport:
    """Import opportunities (with their stage history when the file has one)."""
    report, owners = ImportReport(kind="opportunities"), _Owners(session, actor)
    stages = stages_by_name(session)
    batch: list[_OppRow] = []
    for line, row in _rows(lines):
        report.rows += 1
        try:
            fields, history, email = _opportunity_row(row, stages, owners, clock.now())
        except DomainError as exc:
            report.reject(line, _reason(exc))
            continue
        batch.append((line, fields, history, email))
        if len(batch) >= BATCH:
            _flush_opportunities(session, batch, report, actor)
            batch = []
            if on_batch is not None:
                on_batch(report)
    _flush_opportunities(session, batch, report, actor)
    report.errors.sort(key=lambda bad: bad.line)
    if on_batch is not None:
        on_batch(report)
    return report


def _live_contacts(session: Session, actor: Principal, emails: set[str]) -> dict[str, int]:
    """The live contacts the importer may see among `emails`, by email (one query a batch)."""
    if not emails:
        return {}
    query = select(Contact.email, Contact.id).where(
        Contact.email.in_(emails), LIVE, owner_filter(actor, Contact.owner_id)
    )
    return {row.email: row.id for row in session.execute(query)}


def _parse_time(value: str, field: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(field, f"not an ISO date-time: {value!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _history(
    value: str, stages: dict[str, Stage], fallback: Stage, created: datetime
) -> list[tuple[Stage, datetime]]:
    if not value:
        return [(fallback, created)]
    steps = []
    for part in value.split("|"):
        name, _, at = part.partition("@")
        stage = stages.get(name.strip().lower())
        if stage is None:
            raise InvalidInput("stage_history", f"unknown stage {name.strip()!r}")
        steps.append((stage, _parse_time(at.strip(), "stage_history")))
    if any(b[1] < a[1] for a, b in pairwise(steps)):
        raise InvalidInput("stage_history", "entries must be in time order")
    return steps


def _opportunity_row(
    row: dict[str, str],
    stages: dict[str, Stage],
    owners: _Owners,
    now: datetime,
) -> tuple[dict[str, Any], list[tuple[int, datetime]], str | None]:
    """The deal's fields, its history and its normalised `contact_email` (resolved per batch)."""
    name = row.get("name", "")
    if not name:
        raise InvalidInput("name", "is required")
    try:
        amount = Decimal(row.get("amount", ""))
    except InvalidOperation:
        raise InvalidInput("amount", f"not a number: {row.get('amount')!r}") from None
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("amount", "must be >= 0 with at most 2 decimals")
    currency = (row.get("currency") or "EUR").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput("currency", f"not an ISO 4217 code: {currency!r}")
    stage = stages.get(row.get("stage", "").lower()) if row.get("stage") else None
    if row.get("stage") and stage is None:
        raise InvalidInput("stage", f"unknown stage {row['stage']!r}")
    created = _parse_time(row["created_at"], "created_at") if row.get("created_at") else now
    history = _history(row.get("stage_history", ""), stages, stage or _first(stages), created)
    if stage is not None and history[-1][0].id != stage.id:
        raise InvalidInput("stage", "differs from the last stage of stage_history")
    last_stage, entered = history[-1]
    closed = entered if last_stage.kind != "open" else None
    owner_id = owners.resolve(row.get("owner_email", ""))
    email = (
        normalize.email(row["contact_email"], "contact_email") if row.get("contact_email") else None
    )
    fields = {
        "name": name[:300],
        "owner_id": owner_id,
        "contact_id": None,
        "stage_id": last_stage.id,
        "amount_minor": int(amount * 100),
        "currency": currency,
        "expected_close": _date(row.get("expected_close", "")),
        "source_campaign_id": _int(row.get("source_campaign_id", ""), "source_campaign_id"),
        "stage_entered_at": entered,
        "closed_at": closed,
        "closed_on": closed.date() if closed else None,
        "created_at": history[0][1] if row.get("stage_history") else created,
        "updated_at": now,
        "version": 1,
    }
    return fields, [(s.id, at) for s, at in history], email


def _first(stages: dict[str, Stage]) -> Stage:
    return min((s for s in stages.values() if s.kind == "open"), key=lambda s: s.position)


def _date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("expected_close", f"not an ISO date: {value!r}") from None


def _int(value: str, field: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInput(field, f"not an integer: {value!r}") from None


def _flush_opportunities(
    session: Session, batch: list[_OppRow], report: ImportReport, actor: Principal
) -> None:
    contacts = _live_contacts(session, actor, {email for *_, email in batch if email})
    kept: list[tuple[dict[str, Any], list[tuple[int, datetime]]]] = []
    for line, fields, history, email in batch:
        if email is not None:
            if email not in contacts:
                report.reject(
                    line, InvalidInput("contact_email", f"no live contact {email!r}").message
                )
                continue
            fields["contact_id"] = contacts[email]
        kept.append((fields, history))
    if not kept:
        return
    ids = _insert_ids(session, Opportunity, [fields for fields, _ in kept])
    changes = []
    for opp_id, (_, history) in zip(ids, kept, strict=True):
        previous = None
        for stage_id, at in history:
            changes.append(
                {
                    "opportunity_id": opp_id,
                    "from_stage_id": previous,
                    "to_stage_id": stage_id,
                    "changed_at": at,
                    "changed_by": actor.user_id,
                }
            )
            previous = stage_id
    session.execute(insert(StageChange), changes)
    report.imported += len(kept)
