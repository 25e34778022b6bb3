"""SFA use cases on contacts, accounts and consents; the entry other packages call.

Every read and write filters by `visibility.owner_filter`, so a rep never
sees or edits another rep's contact: to them it does not exist (404).
`create_activity` and `add_timeline_entry` are re-exported here for the
higher modules (ema's journey task step, the call center).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth import Principal
from core.clock import Clock
from core.errors import Conflict, InvalidInput, NotFound
from core.pagination import Page, PageParams, decode_cursor, encode_cursor
from sfa import normalize
from sfa.activities import create_activity
from sfa.errors import StaleVersion
from sfa.models import LIVE, Account, Consent, Contact
from sfa.ownership import change_owner
from sfa.schemas import (
    AccountCreate,
    AccountUpdate,
    ConsentIn,
    ContactCreate,
    ContactRead,
    ContactUpdate,
)
from sfa.timeline import add_timeline_entry
from sfa.visibility import check_owner, default_owner, owner_filter

__all__ = [
    "add_timeline_entry",
    "create_account",
    "create_activity",
    "create_contact",
    "get_contact",
    "list_contacts",
    "update_contact",
]


def contact_etag(contact: Contact) -> str:
    return f'"contact-{contact.id}-v{contact.version}"'


def _clean(session: Session, fields: dict[str, Any], country: str | None) -> dict[str, Any]:
    """Normalise the fields present in `fields` (email, phone, country, zone, channel)."""
    out = dict(fields)
    if "country" in out:
        out["country"] = normalize.country(out["country"])
        country = out["country"]
    if "email" in out:
        out["email"] = normalize.email(out["email"])
    if "phone" in out:
        out["phone"] = normalize.phone(out["phone"], country)
    if "time_zone" in out:
        out["time_zone"] = normalize.time_zone(out["time_zone"])
    if "preferred_channel" in out:
        out["preferred_channel"] = normalize.channel(out["preferred_channel"])
    if out.get("attributes") is None and "attributes" in out:
        out["attributes"] = {}
    if out.get("account_id") is not None and session.get(Account, out["account_id"]) is None:
        raise InvalidInput("account_id", f"no account {out['account_id']}")
    return out


def _check_unique(session: Session, fields: dict[str, Any], exclude: int | None) -> None:
    for name in ("email", "phone"):
        value = fields.get(name)
        if value is None:
            continue
        column = getattr(Contact, name)
        query = select(Contact.id).where(column == value, LIVE)
        if exclude is not None:
            query = query.where(Contact.id != exclude)
        other = session.scalar(query)
        if other is not None:
            raise Conflict(f"contact {other} already has {name} {value!r}", field=name)


def find_live_contact(session: Session, email: str | None, phone: str | None) -> Contact | None:
    """The live contact with this email, else with this phone (the dedup rule)."""
    for column, value in ((Contact.email, email), (Contact.phone, phone)):
        if value is not None:
            found = session.scalar(select(Contact).where(column == value, LIVE))
            if found is not None:
                return found
    return None


def create_contact(
    session: Session, data: ContactCreate, *, actor: Principal, clock: Clock
) -> Contact:
    """Add a contact owned by the caller (or by `owner_id` when the caller may assign it)."""
    fields = _clean(session, data.model_dump(exclude={"consents"}), data.country)
    fields["owner_id"] = default_owner(actor, data.owner_id)
    check_owner(session, actor, fields["owner_id"])
    _check_unique(session, fields, None)
    now = clock.now()
    contact = Contact(**fields, created_at=now, updated_at=now)
    session.add(contact)
    session.flush()
    for consent in data.consents:
        set_consent(session, contact, consent, clock=clock)
    add_timeline_entry(
        session,
        contact.id,
        "contact.created",
        f"Contact created ({contact.source or 'manual'})",
        module="sfa",
        ref=f"contact:{contact.id}",
        occurred_at=now,
    )
    return contact


def set_consent(session: Session, contact: Contact, data: ConsentIn, *, clock: Clock) -> Consent:
    """Record the current consent of `contact` for one channel, with its source."""
    consent = session.scalar(
        select(Consent).where(Consent.contact_id == contact.id, Consent.channel == data.channel)
    )
    now = clock.now()
    if consent is None:
        consent = Consent(contact_id=contact.id, channel=data.channel.value)
        session.add(consent)
    consent.granted, consent.source, consent.recorded_at = data.granted, data.source, now
    _touch(contact, now)
    state = "granted" if data.granted else "withdrawn"
    add_timeline_entry(
        session,
        contact.id,
        "consent.changed",
        f"{data.channel.value} consent {state} ({data.source})",
        module="sfa",
        occurred_at=now,
    )
    return consent


def _touch(record: Any, now: Any) -> None:
    record.updated_at = now
    record.version = (record.version or 0) + 1


def get_contact(session: Session, contact_id: int, *, actor: Principal) -> Contact:
    """The contact if the caller may see it (merged and deleted ones included)."""
    contact = session.scalar(
        select(Contact).where(Contact.id == contact_id, owner_filter(actor, Contact.owner_id))
    )
    if contact is None:
        raise NotFound("contact", contact_id)
    return contact


def consents_of(session: Session, contact_id: int) -> list[Consent]:
    return list(
        session.scalars(
            select(Consent).where(Consent.contact_id == contact_id).order_by(Consent.channel)
        )
    )


def update_contact(
    session: Session,
    contact_id: int,
    data: ContactUpdate,
    *,
    actor: Principal,
    clock: Clock,
    if_match: str | None = None,
) -> Contact:
    """Change the fields sent; `if_match` (an ETag) guards against lost updates."""
    contact = get_contact(session, contact_id, actor=actor)
    if if_match not in (None, "*") and if_match != contact_etag(contact):
        raise StaleVersion("contact", contact_etag(contact))
    if contact.deleted_at is not None or contact.merged_into_id is not None:
        raise Conflict(f"contact {contact_id} is deleted or merged", field="id")
    sent = data.model_dump(exclude_unset=True)
    fields = _clean(session, sent, sent.get("country", contact.country))
    if "owner_id" in fields:
        check_owner(session, actor, fields["owner_id"])
    _check_unique(session, fields, contact.id)
    now = clock.now()
    if "owner_id" in fields:
        change_owner(session, contact, fields.pop("owner_id"), actor=actor, now=now)
    for name, value in fields.items():
        setattr(contact, name, value)
    _touch(contact, now)
    return contact


def delete_contact(session: Session, contact_id: int, *, actor: Principal, clock: Clock) -> Contact:
    """Soft-delete: the row stays as a tombstone that mobile sync hands out."""
    contact = get_contact(session, contact_id, actor=actor)
    if contact.deleted_at is None:
        contact.deleted_at = clock.now()
        _touch(contact, contact.deleted_at)
    return contact


def list_contacts(
    session: Session,
    page: PageParams,
    *,
    actor: Principal,
    email: str | None = None,
    owner_id: int | None = None,
    account_id: int | None = None,
) -> Page[ContactRead]:
    """Live contacts the caller may see, by id, keyset-paginated."""
    query = select(Contact).where(LIVE, owner_filter(actor, Contact.owner_id))
    if email is not None:
        query = query.where(Contact.email == normalize.email(email))
    if owner_id is not None:
        query = query.where(Contact.owner_id == owner_id)
    if account_id is not None:
        query = query.where(Contact.account_id == account_id)
    after = decode_cursor(page.cursor)
    if after is not None:
        query = query.where(Contact.id > int(after))
    rows = list(session.scalars(query.order_by(Contact.id).limit(page.limit + 1)))
    items = [ContactRead.model_validate(r) for r in rows[: page.limit]]
    cursor = encode_cursor(rows[page.limit - 1].id) if len(rows) > page.limit else None
    return Page[ContactRead](items=items, next_cursor=cursor)


def create_account(
    session: Session, data: AccountCreate, *, actor: Principal, clock: Clock
) -> Account:
    """Add an account (optionally under a parent account the caller may see)."""
    owner = default_owner(actor, data.owner_id)
    check_owner(session, actor, owner)
    if data.parent_id is not None:
        get_account(session, data.parent_id, actor=actor, field="parent_id")
    now = clock.now()
    fields = data.model_dump()
    fields.update(owner_id=owner, country=normalize.country(data.country))
    account = Account(**fields, created_at=now, updated_at=now)
    session.add(account)
    session.flush()
    return account


def get_account(
    session: Session, account_id: int, *, actor: Principal, field: str | None = None
) -> Account:
    account = session.scalar(
        select(Account).where(Account.id == account_id, owner_filter(actor, Account.owner_id))
    )
    if account is None:
        if field is not None:
            raise InvalidInput(field, f"no account {account_id}")
        raise NotFound("account", account_id)
    return account


def list_accounts(session: Session, page: PageParams, *, actor: Principal) -> list[Account]:
    query = select(Account).where(
        Account.deleted_at.is_(None), owner_filter(actor, Account.owner_id)
    )
    after = decode_cursor(page.cursor)
    if after is not None:
        query = query.where(Account.id > int(after))
    return list(session.scalars(query.order_by(Account.id).limit(page.limit)))


def update_account(
    session: Session, account_id: int, data: AccountUpdate, *, actor: Principal, clock: Clock
) -> Account:
    """Change the fields sent; an account may not become its own ancestor."""
    account = get_account(session, account_id, actor=actor)
    sent = data.model_dump(exclude_unset=True)
    if "owner_id" in sent:
        check_owner(session, actor, sent["owner_id"])
    if "country" in sent:
        sent["country"] = normalize.country(sent["country"])
    if sent.get("parent_id") is not None:
        _check_parent(session, account, sent["parent_id"], actor)
    for name, value in sent.items():
        if value is not None or name in {"parent_id", "industry", "country", "website"}:
            setattr(account, name, value)
    _touch(account, clock.now())
    return account


def _check_parent(session: Session, account: Account, parent_id: int, actor: Principal) -> None:
    parent: Account | None = get_account(session, parent_id, actor=actor, field="parent_id")
    while parent is not None:
        if parent.id == account.id:
            raise InvalidInput("parent_id", "an account cannot be nested under itself")
        parent = session.get(Account, parent.parent_id) if parent.parent_id else None
