"""SFA HTTP API: leads pushed by integrations (idempotent, optionally HMAC-signed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError

from api.deps import ClockDep, SessionDep, get_principal, require
from api.routers.sfa_common import PageDep, Reader, Writer
from core.auth import Principal, Role
from core.clock import Clock
from core.errors import DomainError, InvalidInput, InvalidInputs
from sfa import leads

router = APIRouter(prefix="/api/v1", tags=["sfa: leads"])

STATUS = {"created": 201, "duplicate": 200, "rejected": 422}


class IntegrationCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")


class IntegrationCreated(BaseModel):
    id: int
    name: str
    secret: str = Field(description="The shared HMAC secret: shown once")


@dataclass(frozen=True)
class LeadRequest:
    """The raw body (signatures cover bytes) and who sent it, read before the sync handler."""

    body: bytes
    principal: Principal | None
    signature: tuple[str, str, str] | None


async def lead_request(request: Request) -> LeadRequest:
    """Read the body; without a webhook signature the caller needs an API key."""
    body = await request.body()
    signature = request.headers.get("x-campana-signature")
    if signature is not None:
        name = request.headers.get("x-campana-integration", "")
        timestamp = request.headers.get("x-campana-timestamp", "")
        return LeadRequest(body, None, (name, timestamp, signature))
    principal = await get_principal(request)
    principal.require(Role.INTEGRATION)
    return LeadRequest(body, principal, None)


def _caller(session: SessionDep, clock: Clock, pushed: LeadRequest) -> str:
    if pushed.signature is not None:
        name, timestamp, signature = pushed.signature
        integration = leads.verify_signature(
            session, name, timestamp, signature, pushed.body, clock=clock
        )
        return f"integration:{integration.name}"
    assert pushed.principal is not None  # noqa: S101 - lead_request guarantees one of them
    return f"key:{pushed.principal.key_name}"


def _parse(body: bytes) -> tuple[leads.LeadIn | None, dict[str, Any], DomainError | None]:
    try:
        raw = json.loads(body or b"null")
    except ValueError:
        return None, {}, InvalidInput("body", "not valid JSON")
    if not isinstance(raw, dict):
        return None, {}, InvalidInput("body", "must be a JSON object")
    try:
        return leads.LeadIn.model_validate(raw), raw, None
    except ValidationError as exc:
        errors = [
            InvalidInput(".".join(str(p) for p in e["loc"]) or "body", e["msg"])
            for e in exc.errors()
        ]
        return None, raw, InvalidInputs(errors)


def _ingest(session: SessionDep, clock: Clock, caller: str, body: bytes) -> leads.LeadResult:
    data, raw, error = _parse(body)
    if data is None or error is not None:
        return leads.log_rejection(
            session, caller, error or InvalidInput("body", "empty"), clock=clock, raw=raw
        )
    try:
        with session.begin_nested():
            return leads.ingest_lead(session, data, caller=caller, clock=clock)
    except (InvalidInput, InvalidInputs) as exc:
        return leads.log_rejection(session, caller, exc, clock=clock, raw=raw)


@router.post(
    "/leads",
    summary="Push a lead (Idempotency-Key; HMAC-signed webhooks or an integration key)",
    responses={200: {"description": "duplicate"}, 201: {"description": "created"}},
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LeadIn"}}}
        }
    },
)
def post_lead(
    pushed: Annotated[LeadRequest, Depends(lead_request)],
    session: SessionDep,
    clock: ClockDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    caller = _caller(session, clock, pushed)
    digest = leads.body_hash(pushed.body)
    if idempotency_key is None:
        result = _ingest(session, clock, caller, pushed.body)
        return JSONResponse(result.model_dump(mode="json"), status_code=STATUS[result.outcome])
    stored = leads.recall(session, caller, idempotency_key, digest)
    if stored is None:
        try:
            with session.begin_nested():
                result = _ingest(session, clock, caller, pushed.body)
                payload, code = result.model_dump(mode="json"), STATUS[result.outcome]
                leads.remember(session, caller, idempotency_key, digest, code, payload, clock=clock)
            return JSONResponse(payload, status_code=code)
        except IntegrityError:
            # a concurrent request with the same key committed first: answer as it did
            stored = leads.recall(session, caller, idempotency_key, digest)
            if stored is None:
                raise
    replay = {"Idempotent-Replay": "true"}
    return JSONResponse(stored.response, status_code=stored.status_code, headers=replay)


@router.get("/leads", summary="List visible leads")
def get_leads(session: SessionDep, actor: Reader, page: PageDep) -> list[leads.LeadRead]:
    return [
        leads.LeadRead.model_validate(lead) for lead in leads.list_leads(session, page, actor=actor)
    ]


class LeadStatusUpdate(BaseModel):
    status: str = Field(description="open, qualified, converted or disqualified")


@router.patch("/leads/{lead_id}", summary="Qualify, convert or disqualify a lead")
def patch_lead(
    lead_id: int, body: LeadStatusUpdate, session: SessionDep, clock: ClockDep, actor: Writer
) -> leads.LeadRead:
    lead = leads.update_lead_status(session, lead_id, body.status, actor=actor, clock=clock)
    return leads.LeadRead.model_validate(lead)


@router.get(
    "/leads/ingestions",
    summary="The lead ingestion log: created, duplicate, rejected with reason",
)
def get_ingestions(
    session: SessionDep,
    page: PageDep,
    actor: Annotated[Principal, Depends(require(Role.INTEGRATION))],
) -> list[leads.IngestionRead]:
    rows = leads.list_ingestions(session, page, actor=actor)
    return [leads.IngestionRead.model_validate(r) for r in rows]


@router.post(
    "/integrations",
    status_code=status.HTTP_201_CREATED,
    summary="Register an integration and get its webhook secret (admin)",
)
def post_integration(
    body: Annotated[IntegrationCreate, Body()],
    session: SessionDep,
    clock: ClockDep,
    actor: Annotated[Principal, Depends(require(Role.ADMIN))],
) -> IntegrationCreated:
    integration, secret = leads.create_integration(session, body.name, actor=actor, clock=clock)
    return IntegrationCreated(id=integration.id, name=integration.name, secret=secret)
