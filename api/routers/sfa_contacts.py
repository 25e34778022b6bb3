"""SFA HTTP API: contacts, consents, accounts, teams, the timeline and merges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status
from fastapi.responses import JSONResponse

from api import wiring
from api.deps import ClockDep, PrincipalDep, SessionDep, require
from api.routers.sfa_common import PageDep, Reader, Writer, guarded, not_modified, with_etag
from core.auth import Role
from core.pagination import Page
from sfa import merge, service, teams
from sfa.models import Contact
from sfa.schemas import (
    AccountCreate,
    AccountRead,
    AccountUpdate,
    ConsentIn,
    ConsentRead,
    ContactCreate,
    ContactDetail,
    ContactRead,
    ContactUpdate,
    MergeRequest,
    TeamCreate,
    TeamRead,
)
from sfa.timeline import TimelineItem, list_timeline

router = APIRouter(prefix="/api/v1", tags=["sfa: contacts"])

IfNoneMatch = Annotated[str | None, Header()]
IfMatch = Annotated[str | None, Header()]


def _detail(session: SessionDep, contact: Contact) -> ContactDetail:
    consents = [ConsentRead.model_validate(c) for c in service.consents_of(session, contact.id)]
    return ContactDetail(**ContactRead.model_validate(contact).model_dump(), consents=consents)


@router.post("/contacts", status_code=status.HTTP_201_CREATED, summary="Create a contact")
def post_contact(
    body: ContactCreate, session: SessionDep, clock: ClockDep, actor: Writer
) -> JSONResponse:
    contact = service.create_contact(session, body, actor=actor, clock=clock)
    return with_etag(_detail(session, contact), service.contact_etag(contact), 201)


@router.get("/contacts", summary="List visible contacts")
def get_contacts(
    session: SessionDep,
    actor: Reader,
    page: PageDep,
    email: str | None = None,
    owner_id: int | None = None,
    account_id: int | None = None,
) -> Page[ContactRead]:
    return service.list_contacts(
        session, page, actor=actor, email=email, owner_id=owner_id, account_id=account_id
    )


@router.get(
    "/contacts/{contact_id}",
    summary="Read a contact (ETag; If-None-Match answers 304)",
    response_model=ContactDetail,
)
def get_contact(
    contact_id: int, session: SessionDep, actor: Reader, if_none_match: IfNoneMatch = None
) -> Response:
    contact = service.get_contact(session, contact_id, actor=actor)
    etag = service.contact_etag(contact)
    return not_modified(if_none_match, etag) or with_etag(_detail(session, contact), etag)


@router.patch(
    "/contacts/{contact_id}",
    summary="Change a contact (If-Match guards against lost updates: 412)",
    response_model=ContactDetail,
)
def patch_contact(
    contact_id: int,
    body: ContactUpdate,
    session: SessionDep,
    clock: ClockDep,
    actor: Writer,
    if_match: IfMatch = None,
) -> Response:
    result = guarded(
        lambda: service.update_contact(
            session, contact_id, body, actor=actor, clock=clock, if_match=if_match
        )
    )
    if isinstance(result, JSONResponse):
        return result
    return with_etag(_detail(session, result), service.contact_etag(result))


@router.delete("/contacts/{contact_id}", summary="Delete a contact (kept as a tombstone)")
def delete_contact(
    contact_id: int, session: SessionDep, clock: ClockDep, actor: Writer
) -> ContactRead:
    contact = service.delete_contact(session, contact_id, actor=actor, clock=clock)
    return ContactRead.model_validate(contact)


@router.put("/contacts/{contact_id}/consents", summary="Record a channel consent")
def put_consent(
    contact_id: int, body: ConsentIn, session: SessionDep, clock: ClockDep, actor: Writer
) -> ConsentRead:
    contact = service.get_contact(session, contact_id, actor=actor)
    return ConsentRead.model_validate(service.set_consent(session, contact, body, clock=clock))


@router.post("/contacts/{contact_id}/merge", summary="Merge a duplicate into this contact")
def post_merge(
    contact_id: int, body: MergeRequest, session: SessionDep, clock: ClockDep, actor: Writer
) -> ContactDetail:
    survivor = merge.merge_contacts(
        session, contact_id, body.duplicate_id, actor=actor, clock=clock
    )
    return _detail(session, survivor)


@router.get(
    "/contacts/{contact_id}/timeline",
    summary="Everything that happened with the contact, across modules, newest first",
)
def get_timeline(
    contact_id: int, session: SessionDep, actor: Reader, page: PageDep
) -> Page[TimelineItem]:
    service.get_contact(session, contact_id, actor=actor)
    return list_timeline(session, contact_id, page, sources=wiring.TIMELINE_SOURCES)


@router.post("/accounts", status_code=status.HTTP_201_CREATED, summary="Create an account")
def post_account(
    body: AccountCreate, session: SessionDep, clock: ClockDep, actor: Writer
) -> AccountRead:
    return AccountRead.model_validate(
        service.create_account(session, body, actor=actor, clock=clock)
    )


@router.get("/accounts", summary="List visible accounts")
def get_accounts(session: SessionDep, actor: Reader, page: PageDep) -> list[AccountRead]:
    return [
        AccountRead.model_validate(a) for a in service.list_accounts(session, page, actor=actor)
    ]


@router.get("/accounts/{account_id}", summary="Read an account")
def get_account(account_id: int, session: SessionDep, actor: Reader) -> AccountRead:
    return AccountRead.model_validate(service.get_account(session, account_id, actor=actor))


@router.patch("/accounts/{account_id}", summary="Change an account")
def patch_account(
    account_id: int, body: AccountUpdate, session: SessionDep, clock: ClockDep, actor: Writer
) -> AccountRead:
    account = service.update_account(session, account_id, body, actor=actor, clock=clock)
    return AccountRead.model_validate(account)


@router.post(
    "/teams",
    status_code=status.HTTP_201_CREATED,
    summary="Create a sales team (admin)",
    dependencies=[Depends(require(Role.ADMIN))],
)
def post_team(
    body: TeamCreate, session: SessionDep, clock: ClockDep, actor: PrincipalDep
) -> TeamRead:
    return teams.create_team(session, body, actor=actor, clock=clock)


@router.get("/teams", summary="List sales teams and their members")
def get_teams(session: SessionDep, actor: Reader) -> list[TeamRead]:
    return teams.list_teams(session, actor=actor)
